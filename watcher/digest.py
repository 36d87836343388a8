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
from watcher.i18n import ENGLISH, N_, Translator
from watcher.models import Alert, Change, Digest, FactMove, SourceOutcome

TELEGRAM_LIMIT = 4096
FOLD_OTHER_AFTER = 5  # a longer "other" group is shown as a count
CATEGORY_TITLES = {
    "hardware": N_("Hardware"), "pricing": N_("Pricing"), "contract": N_("Smart contracts"),
    "models": N_("Models"), "tooling": N_("Tooling"), "governance": N_("Governance"),
    "adoption": N_("Adoption"), "other": N_("Other"),
}

_LABELS = {
    ("post", "added"): N_("New post"),
    ("post", "modified"): N_("Edited post"),
    ("post", "removed"): N_("Post deleted"),
    ("commit", "added"): N_("New commit"),
    ("commit", "modified"): N_("Commit rewritten"),
    ("commit", "removed"): N_("Commit gone"),
    ("release", "added"): N_("New release"),
    ("release", "modified"): N_("Release edited"),
    ("release", "removed"): N_("Release removed"),
    ("tag", "added"): N_("New tag"),
    ("tag", "modified"): N_("Tag moved"),
    ("tag", "removed"): N_("Tag removed"),
    ("page", "added"): N_("New page"),
    ("page", "modified"): N_("Changed"),
    ("page", "removed"): N_("Page gone"),
    ("artifact", "added"): N_("New download"),
    ("artifact", "modified"): N_("New build"),
    ("artifact", "removed"): N_("Download gone"),
    ("chain_price", "modified"): N_("On-chain price"),
    ("chain_param", "modified"): N_("On-chain parameter"),
    ("chain_code", "modified"): N_("New contract code"),
    ("chain_owner", "modified"): N_("New contract owner"),
    ("chain_model", "added"): N_("Model allowed"),
    ("chain_model", "removed"): N_("Model no longer allowed"),
    ("chain_worker_image", "added"): N_("Worker image allowed"),
    ("chain_worker_image", "removed"): N_("Worker image no longer allowed"),
    ("chain_proxy_image", "added"): N_("Proxy image accepted"),
    ("chain_proxy_image", "removed"): N_("Proxy image no longer accepted"),
    ("chain_proxy", "added"): N_("Proxy registered"),
    ("chain_proxy", "modified"): N_("Proxy moved"),
    ("chain_proxy", "removed"): N_("Proxy gone"),
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


def label(change: Change, t: Translator = ENGLISH) -> str:
    if change.item_kind == "page" and change.section is not None:
        return {"added": t("Added"), "removed": t("Removed"), "modified": t("Changed")}[change.kind]
    known = _LABELS.get((change.item_kind, change.kind))
    return t(known) if known else change.kind.capitalize()


def category_title(category: str, t: Translator = ENGLISH) -> str:
    """A category's display title in the language (the machine name stays in JSON)."""
    return t(CATEGORY_TITLES[category])


def headline(digest: Digest, t: Translator = ENGLISH) -> str:
    """One line for archive listings: the first fact that moved, else what changed."""
    if digest.kind == "baseline":
        items = sum(o.items for o in digest.baselined)
        return t("Baseline recorded: {sources}, {items}",
                 sources=_sources(len(digest.baselined), t), items=_items(items, t))
    if digest.failed and len(digest.failed) == len(digest.outcomes):
        return t("Nothing could be checked: {sources} failed",
                 sources=_sources(len(digest.failed), t))
    text = t("No changes") if digest.kind == "no_changes" else _tally(digest.changes, t)
    if digest.moves:
        more = t(" (+{count} more)", count=len(digest.moves) - 1) if len(digest.moves) > 1 else ""
        text = f"{move_text(digest.moves[0], t)}{more}; {text}"
    if digest.failed:
        text += t(" ({sources} failed)", sources=_sources(len(digest.failed), t))
    return text


def _tally(changes: list[Change], t: Translator = ENGLISH) -> str:
    counts: dict[str, int] = {}
    for change in changes:
        name = t("page edit") if change.section is not None else label(change, t).lower()
        counts[name] = counts.get(name, 0) + 1
    parts = [t("{count} × {name}", count=n, name=name) if n > 1 else name
             for name, n in counts.items()]
    changed = t.plural(len(changes), "{count} change", "{count} changes")
    return f"{changed}: " + ", ".join(parts)


_DIRECTIONS = {"relaxed": N_("relaxed"), "tightened": N_("tightened")}
_MEMBER_NOTE = re.compile(r"(\d+) (added|removed)")


def move_text(move: FactMove, t: Translator = ENGLISH) -> str:
    """"Minimum host kernel 6.16 → 6.12 (relaxed)"; a set says what joined it: "Model hashes:
    1 added"."""
    name = t(move.label)
    note = _note(move.note, t) if move.note else move.note
    if move.name in MEMBER_FACTS and move.note:
        return f"{name}: {note}"
    if move.before is None:
        text = t("{label}: {after} (newly stated)", label=name, after=move.after)
    elif move.after is None:
        text = t("{label}: no longer stated (was {before})", label=name, before=move.before)
    else:
        text = f"{name} {move.before} → {move.after}"
    direction = move.direction and t(_DIRECTIONS.get(move.direction, move.direction))
    notes = [n for n in (direction, note) if n]
    return text + (f" ({', '.join(notes)})" if notes else "")


def _note(note: str, t: Translator) -> str:
    """A set's "2 added, 1 removed" in the language; "+25%" as it is."""
    words = {"added": N_("{count} added"), "removed": N_("{count} removed")}
    return _MEMBER_NOTE.sub(lambda m: t(words[m.group(2)], count=m.group(1)), note)


def _sources(n: int, t: Translator) -> str:
    return t.plural(n, "{count} source", "{count} sources")


def _items(n: int, t: Translator) -> str:
    return t.plural(n, "{count} item", "{count} items")


@dataclass(frozen=True)
class Section:
    """A titled group of lines; rendering keeps sections whole where the size allows."""

    title: str
    link: str | None
    lines: list[tuple[str, str | None, list[str]]]  # (text, url, detail lines)


def sections(digest: Digest, excerpt_chars: int, t: Translator = ENGLISH) -> list[Section]:
    """Headlines (facts that moved) first, then changes by category, "other" last."""
    found = []
    if digest.alerts:
        lines = [(alert_text(a, t), None, []) for a in digest.alerts]
        found.append(Section(t("Alerts"), None, lines))
    if digest.moves:
        moved = [(move_text(m, t), m.url or None, []) for m in digest.moves]
        if roi := roi_line(digest):
            moved.append((roi, None, []))
        found.append(Section(t("What moved"), None, moved))
    groups: dict[str, list[Change]] = {}
    for change in digest.changes:
        groups.setdefault((change.categories or ["other"])[0], []).append(change)
    for category in CATEGORIES:
        changes = groups.get(category, [])
        if category == "other" and len(changes) > FOLD_OTHER_AFTER:
            lines = [(_tally(changes, t), None, [])]
        else:
            lines = [_change_line(c, excerpt_chars, t) for c in changes]
        if lines:
            found.append(Section(category_title(category, t), None, lines))
    if digest.baselined:
        found.append(Section(t("Baseline recorded (now tracked, not reported as new)"), None, [
            (f"{o.source}: {_items(o.items, t)}", o.url, []) for o in digest.baselined
        ]))
    problems = [(f"{o.source}: {o.error}; {_kept(o, t)}", o.url, []) for o in digest.failed]
    problems += [(t("{source}: {held} — held back, last good copy kept; accepted if seen again",
                    source=o.source, held=held),
                  o.url, []) for o in digest.outcomes for held in o.held]
    if problems:
        found.append(Section(t("Could not check"), None, problems))
    return found


def roi_line(digest: Digest) -> str | None:
    """The ROI desk's line, shown under the facts that moved while a pricing fact is among them
    (a subscriber's part without pricing leaves it out)."""
    if digest.roi and any(m.category == "pricing" for m in digest.moves):
        return digest.roi
    return None


def alert_text(alert: Alert, t: Translator = ENGLISH) -> str:
    if alert.kind == "failing":
        since = t(" (since {date})", date=alert.since[:10]) if alert.since else ""
        return t("⚠ {source} has failed {failures} runs in a row{since}; "
                 "its last good copy is kept",
                 source=alert.source, failures=alert.failures, since=since)
    return t("✓ {source} is back after {failures} failed runs", source=alert.source,
             failures=alert.failures)


def _kept(outcome: SourceOutcome, t: Translator = ENGLISH) -> str:
    if outcome.last_ok is None:
        return t("nothing stored yet")
    return t("last good copy {date} kept", date=outcome.last_ok[:10])


def _change_line(change: Change, excerpt_chars: int,
                 t: Translator = ENGLISH) -> tuple[str, str | None, list[str]]:
    mark = _MARKS[change.kind]
    where = f" › {change.section}" if change.section else ""
    direction = change.hardware_direction
    tags = [t(_DIRECTIONS.get(direction, direction))] if direction else []
    tags += [f"+{name}" for name in change.categories[1:]]  # as /subscribe takes them
    tagged = f" [{', '.join(tags)}]" if tags else ""
    text = f"{mark} {label(change, t)}: {change.title}{where}{tagged} · {change.source}"
    details = []
    if change.kind == "modified" or change.section is not None:
        if change.before:
            details.append(t("before: {text}", text=_excerpt(change.before, excerpt_chars)))
        if change.after:
            details.append(t("after: {text}", text=_excerpt(change.after, excerpt_chars)))
    elif change.kind == "added" and change.item_kind == "post" and change.after:
        details.append(_excerpt(change.after, excerpt_chars))
    return text, change.url, details


def _excerpt(text: str, limit: int) -> str:
    flat = " ⏎ ".join(line.strip() for line in text.strip().split("\n") if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _title(digest: Digest, t: Translator = ENGLISH) -> str:
    day = digest.created_at.strftime("%Y-%m-%d")
    number = f" #{digest.id}" if digest.id is not None else ""
    return t("COCOON watch{number} — {day}", number=number, day=day)


def render_text(digest: Digest, excerpt_chars: int = 300, t: Translator = ENGLISH) -> str:
    out = [_title(digest, t), headline(digest, t), ""]
    for section in sections(digest, excerpt_chars, t):
        out.append(f"== {section.title}" + (f" ({section.link})" if section.link else "") + " ==")
        for text, url, details in section.lines:
            out.append(text + (f" — {url}" if url else ""))
            out.extend(f"    {d}" for d in details)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_html(digest: Digest, excerpt_chars: int = 300, t: Translator = ENGLISH) -> str:
    """Telegram HTML: only b, i, a and code tags; every text escaped."""
    blocks = [f"<b>{escape(_title(digest, t))}</b>\n{escape(headline(digest, t))}"]
    for section in sections(digest, excerpt_chars, t):
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


def render_json(digest: Digest, t: Translator = ENGLISH) -> dict[str, Any]:
    """Machine field names and values; the "headline" and "text" fields in the language."""
    return {
        "id": digest.id,
        "kind": digest.kind,
        "created_at": digest.created_at.isoformat(),
        "headline": headline(digest, t),
        "alerts": [{**a.to_dict(), "text": alert_text(a, t)} for a in digest.alerts],
        "headlines": [{**m.to_dict(), "text": move_text(m, t)} for m in digest.moves],
        "roi": roi_line(digest),
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
