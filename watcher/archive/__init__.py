"""The digest archive as a static site and an Atom feed, readable without JavaScript."""

from watcher.archive.site import export

__all__ = ["export"]
