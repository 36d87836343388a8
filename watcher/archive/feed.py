"""The archive as an Atom feed (RFC 4287): one entry per digest, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from watcher.store import ArchivedDigest

ATOM = "http://www.w3.org/2005/Atom"
FEED_ID = "tag:cocoon-watcher,2026:archive"


def atom(archived: Sequence[ArchivedDigest], public_url: str, title: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", FEED_ID)
    updated = archived[0].created_at.isoformat() if archived else "1970-01-01T00:00:00+00:00"
    _text(feed, "updated", updated)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "Cocoon Watcher")
    base = public_url.rstrip("/") + "/" if public_url else ""
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}feed.xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}index.html")
    for item in archived:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "title", f"#{item.id} · {item.headline}")
        _text(entry, "id", f"{FEED_ID}:digest:{item.id}")
        _text(entry, "updated", item.created_at.isoformat())
        _text(entry, "published", item.created_at.isoformat())
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate",
                      href=f"{base}digest/{item.id}.html")
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="text")
        content.text = item.text
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = value
