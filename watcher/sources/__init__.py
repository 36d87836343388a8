"""Source kinds. Importing this package registers every kind in SOURCE_KINDS."""

from watcher.sources.base import SOURCE_KINDS, FetchContext, FetchError, Source, SourceGone

__all__ = ["SOURCE_KINDS", "FetchContext", "FetchError", "Source", "SourceGone"]
