"""Source kinds, each in the module of its name, imported when a config first names it: a run
pays only for the libraries of the kinds it uses (PyGithub and pytoniq-core take tens
of milliseconds each to import).

Adding a kind is one module `watcher/sources/<kind>.py` with a `@register`ed Source subclass,
and its name in KINDS.
"""

from importlib import import_module

from watcher.sources.base import SOURCE_KINDS, FetchContext, FetchError, Source, SourceGone

KINDS = ("artifact", "github", "telegram_channel", "ton_root_contract", "web_page")


def source_kind(kind: str) -> type[Source] | None:
    """The Source class of `kind` (shipped, or `register`ed by other code), or None."""
    if kind in KINDS:
        import_module(f"{__name__}.{kind}")
    return SOURCE_KINDS.get(kind)


def kind_names() -> list[str]:
    return sorted({*KINDS, *SOURCE_KINDS})


__all__ = ["KINDS", "FetchContext", "FetchError", "Source", "SourceGone", "kind_names",
           "source_kind"]
