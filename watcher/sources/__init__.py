"""Source kinds. Importing this package registers every kind in SOURCE_KINDS.

Adding a kind is one module with a `@register`ed Source subclass, and its line below.
"""

from watcher.sources import artifact, github, telegram_channel, web_page  # noqa: F401
from watcher.sources.base import SOURCE_KINDS, FetchContext, FetchError, Source, SourceGone

__all__ = ["SOURCE_KINDS", "FetchContext", "FetchError", "Source", "SourceGone"]
