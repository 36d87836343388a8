"""Changes + source outcomes -> a Digest, rendered as plain text, Telegram HTML or JSON.

Telegram refuses messages over 4096 characters, so `split_message` cuts HTML on section
boundaries first, then lines, and never inside a tag or an entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from watcher.classify.facts import MEMBER_FACTS
from watcher.classify.rules import CATEGORIES
from watcher.models import Alert, Change, Digest, FactMove, SourceOutcome

TELEGRAM_LIMIT = 4096
FOLD_OTHER_AFTER = 5  # a longer "other" group is shown as a count
CATEGORY_TITLES = {
    "hardware": "Hardware", "pricing": "Pricing", "contract": "Smart contracts",
    "models": "Models", "tooling": "Tooling", "governance": "Governance",
    "adoption": "Adoption", "other": "Other",
}

_LABELS = {
    ("post", "added"): "New post",
    ("post", "modified"): "Edited post",
    ("post", "removed"): "Post deleted",
    ("commit", "added"): "New commit",
    ("commit", "modified"): "Commit rewritten",
    ("commit", "removed"): "Commit gone",
    ("release", "added"): "New release",
    ("release", "modified"): "Release edited",
    ("release", "removed"): "Release removed",
    ("tag", "added"): "New tag",
    ("tag", "modified"): "Tag moved",
    ("tag", "removed"): "Tag removed",
    ("page", "added"): "New page",
    ("page", "modified"): "Changed",
    ("page", "removed"): "Page gone",
    ("artifact", "added"): "New download",
    ("artifact", "modified"): "New build",
    ("artifact", "removed"): "Download gone",
    ("chain_price", "modified"): "On-chain price",
    ("chain_param", "modified"): "On-chain parameter",
    ("chain_code", "modified"): "New contract code",
    ("chain_owner", "modified"): "New contract owner",
    ("chain_model", "added"): "Model allowed",
    ("chain_model", "removed"): "Model no longer allowed",
    ("chain_worker_image", "added"): "Worker image allowed",
    ("chain_worker_image", "removed"): "Worker image no longer allowed",
    ("chain_proxy_image", "added"): "Proxy image accepted",
    ("chain_proxy_image", "removed"): "Proxy image no longer accepted",
    ("chain_proxy", "added"): "Proxy registered",
    ("chain_proxy", "modified"): "Proxy moved",
    ("chain_proxy", "removed"): "Proxy gone",
}
_MARKS = {"added": "+", "modified": "~", "removed": "-"}


def build(changes: list[Change], outcomes: list[SourceOutcome], now: datetime) -> Digest:
    if changes:
        kind = "changes"
    elif any(o.status == "baseline" for o in outcomes):
        kind = "baseline"
    else:
        kind = "no_changes"
    return Digest(kind=kind, created_at=now, changes=changes, outcomes=outcomes)


def is_quiet(digest: Digest) -> bool:
    """Nothing to tell: no change, no failure, nothing held back, no alert (config may keep
    such a week silent)."""
    held = any(o.held for o in digest.outcomes)
    return digest.kind == "no_changes" and not (digest.failed or held or digest.alerts)


def label(change: Change) -> str:
    if change.item_kind == "page" and change.section is not None:
        return {"added": "Added", "removed": "Removed", "modified": "Changed"}[change.kind]
    return _LABELS.get((change.item_kind, change.kind), change.kind.capitalize())


def headline(digest: Digest) -> str:
    """One line for archive listings: the first fact that moved, else what changed."""
    if digest.kind == "baseline":
        items = sum(o.items for o in digest.baselined)
        sources = _count(len(digest.baselined), "source")
        return f"Baseline recorded: {sources}, {_count(items, 'item')}"
    if digest.failed and len(digest.failed) == len(digest.outcomes):
        return f"Nothing could be checked: {_count(len(digest.failed), 'source')} failed"
    text = "No changes" if digest.kind == "no_changes" else _tally(digest.changes)
    if digest.moves:
        more = f" (+{len(digest.moves) - 1} more)" if len(digest.moves) > 1 else ""
        text = f"{move_text(digest.moves[0])}{more}; {text}"
    if digest.failed:
        text += f" ({_count(len(digest.failed), 'source')} failed)"
    return text


def _tally(changes: list[Change]) -> str:
    counts: dict[str, int] = {}
    for change in changes:
        name = "page edit" if change.section is not None else label(change).lower()
        counts[name] = counts.get(name, 0) + 1
    parts = [f"{n} × {name}" if n > 1 else name for name, n in counts.items()]
    return f"{_count(len(changes), 'change')}: " + ", ".join(parts)


def move_text(move: FactMove) -> str:
    """"Minimum host kernel 6.16 → 6.12 (relaxed)"; a set says what joined it: "Model hashes:
    1 added"."""
    if move.name in MEMBER_FACTS and move.note:
        return f"{move.label}: {move.note}"
    if move.before is None:
        text = f"{move.label}: {move.after} (newly stated)"
    elif move.after is None:
        text = f"{move.label}: no longer stated (was {move.before})"
    else:
        text = f"{move.label} {move.before} → {move.after}"
    notes = [n for n in (move.direction, move.note) if n]
    return text + (f" ({', '.join(notes)})" if notes else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class Section:
    """A titled group of lines; rendering keeps sections whole where the size allows."""

    title: str
    link: str | None
    lines: list[tuple[str, str | None, list[str]]]  # (text, url, detail lines)


def sections(digest: Digest, excerpt_chars: int) -> list[Section]:
    """Headlines (facts that moved) first, then changes by category, "other" last."""
    found = []
    if digest.alerts:
        lines = [(alert_text(a), None, []) for a in digest.alerts]
        found.append(Section("Alerts", None, lines))
    if digest.moves:
        found.append(Section("What moved", None, [
            (move_text(m), m.url or None, []) for m in digest.moves
        ]))
    groups: dict[str, list[Change]] = {}
    for change in digest.changes:
        groups.setdefault((change.categories or ["other"])[0], []).append(change)
    for category in CATEGORIES:
        changes = groups.get(category, [])
        if category == "other" and len(changes) > FOLD_OTHER_AFTER:
            lines = [(_tally(changes), None, [])]
        else:
            lines = [_change_line(c, excerpt_chars) for c in changes]
        if lines:
            found.append(Section(CATEGORY_TITLES[category], None, lines))
    if digest.baselined:
        found.append(Section("Baseline recorded (now tracked, not reported as new)", None, [
            (f"{o.source}: {_count(o.items, 'item')}", o.url, []) for o in digest.baselined
        ]))
    problems = [(f"{o.source}: {o.error}; {_kept(o)}", o.url, []) for o in digest.failed]
    problems += [(f"{o.source}: {held} — held back, last good copy kept; accepted if seen again",
                  o.url, []) for o in digest.outcomes for held in o.held]
    if problems:
        found.append(Section("Could not check", None, problems))
    return found


def alert_text(alert: Alert) -> str:
    if alert.kind == "failing":
        since = f" (since {alert.since[:10]})" if alert.since else ""
        return (f"⚠ {alert.source} has failed {alert.failures} runs in a row{since}; "
                "its last good copy is kept")
    return f"✓ {alert.source} is back after {alert.failures} failed runs"


def _kept(outcome: SourceOutcome) -> str:
    if outcome.last_ok is None:
        return "nothing stored yet"
    return f"last good copy {outcome.last_ok[:10]} kept"


def _change_line(change: Change, excerpt_chars: int) -> tuple[str, str | None, list[str]]:
    mark = _MARKS[change.kind]
    where = f" › {change.section}" if change.section else ""
    tags = [change.hardware_direction] if change.hardware_direction else []
    tags += [f"+{name}" for name in change.categories[1:]]
    tagged = f" [{', '.join(tags)}]" if tags else ""
    text = f"{mark} {label(change)}: {change.title}{where}{tagged} · {change.source}"
    details = []
    if change.kind == "modified" or change.section is not None:
        if change.before:
            details.append("before: " + _excerpt(change.before, excerpt_chars))
        if change.after:
            details.append("after: " + _excerpt(change.after, excerpt_chars))
    elif change.kind == "added" and change.item_kind == "post" and change.after:
        details.append(_excerpt(change.after, excerpt_chars))
    return text, change.url, details


def _excerpt(text: str, limit: int) -> str:
    flat = " ⏎ ".join(line.strip() for line in text.strip().split("\n") if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _title(digest: Digest) -> str:
    day = digest.created_at.strftime("%Y-%m-%d")
    number = f" #{digest.id}" if digest.id is not None else ""
    return f"COCOON watch{number} — {day}"


def render_text(digest: Digest, excerpt_chars: int = 300) -> str:
    out = [_title(digest), headline(digest), ""]
    for section in sections(digest, excerpt_chars):
        out.append(f"== {section.title}" + (f" ({section.link})" if section.link else "") + " ==")
        for text, url, details in section.lines:
            out.append(text + (f" — {url}" if url else ""))
            out.extend(f"    {d}" for d in details)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_html(digest: Digest, excerpt_chars: int = 300) -> str:
    """Telegram HTML: only b, i, a and code tags; every text escaped."""
    blocks = [f"<b>{escape(_title(digest))}</b>\n{escape(headline(digest))}"]
    for section in sections(digest, excerpt_chars):
        title = f"<b>{escape(section.title)}</b>"
        if section.link:
            title = f'<b><a href="{escape(section.link)}">{escape(section.title)}</a></b>'
        lines = [title]
        for text, url, details in section.lines:
            body = escape(text)
            lines.append(f'<a href="{escape(url)}">{body}</a>' if url else body)
            lines.extend(f"<i>{escape(d)}</i>" for d in details)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def render_json(digest: Digest) -> dict[str, Any]:
    return {
        "id": digest.id,
        "kind": digest.kind,
        "created_at": digest.created_at.isoformat(),
        "headline": headline(digest),
        "alerts": [{**a.to_dict(), "text": alert_text(a)} for a in digest.alerts],
        "headlines": [{**m.to_dict(), "text": move_text(m)} for m in digest.moves],
        "changes": [c.to_dict() for c in digest.changes],
        "sources": [o.to_dict() for o in digest.outcomes],
    }


# --- splitting for Telegram ---------------------------------------------------------------

_TOKEN = re.compile(r"<[^>]*>|&#?[A-Za-z0-9]+;|[\s\S]")
_OPEN_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)\b[^>]*>")
_CLOSE_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")


def telegram_length(text: str) -> int:
    """Telegram counts UTF-16 code units; an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def split_message(html: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` UTF-16 units.

    Prefers section breaks (blank lines), then line breaks; a single over-long line is cut
    between tokens, closing the tags open at the cut and reopening them in the next part.
    """
    return [part for part in _split(html, limit, ("\n\n", "\n")) if part.strip()]


def _split(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if telegram_length(text) <= limit:
        return [text]
    if not separators:
        return _hard_split(text, limit)
    separator, finer = separators[0], separators[1:]
    parts: list[str] = []
    current = ""
    for piece in text.split(separator):
        candidate = f"{current}{separator}{piece}" if current else piece
        if telegram_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if telegram_length(piece) <= limit:
            current = piece
        else:
            pieces = _split(piece, limit, finer)
            parts.extend(pieces[:-1])
            current = pieces[-1]
    if current:
        parts.append(current)
    return parts


def _hard_split(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, the opening tag as written)
    current = ""
    for token in _TOKEN.findall(text):
        after = _track(token, open_tags)
        # the part must still fit once the tags open after this token are closed
        if current and telegram_length(current + token + _closing(after)) > limit:
            parts.append(current + _closing(open_tags))
            current = "".join(tag for _, tag in open_tags)
        current += token
        open_tags = after
    if current:
        parts.append(current)
    return parts


def _closing(open_tags: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(open_tags))


def _track(token: str, open_tags: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tags open after `token`."""
    if close := _CLOSE_TAG.fullmatch(token):
        name = close.group(1).lower()
        for index in range(len(open_tags) - 1, -1, -1):
            if open_tags[index][0] == name:
                return open_tags[:index] + open_tags[index + 1:]
        return open_tags
    if (opening := _OPEN_TAG.fullmatch(token)) and not token.endswith("/>"):
        return [*open_tags, (opening.group(1).lower(), token)]
    return open_tags


def messages(digest: Digest, excerpt_chars: int = 300) -> list[str]:
    """The digest as Telegram HTML messages, each under the limit."""
    return split_message(render_html(digest, excerpt_chars))
