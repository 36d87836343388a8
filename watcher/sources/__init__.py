"""Source kinds. Importing this package registers every kind in SOURCE_KINDS.

Adding a kind is one module with a `@register`ed Source subclass, and its line below.
"""

from watcher.sources import (  # noqa: F401
    artifact,
    github,
    telegram_channel,
    ton_root_contract,
    web_page,
)
from watcher.sources.base import SOURCE_KINDS, FetchContext, FetchError, Source, SourceGone

__all__ = ["SOURCE_KINDS", "FetchContext", "FetchError", "Source", "SourceGone"]
