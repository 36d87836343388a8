"""The bot's commands: short async handlers over the pipeline and the store.

Every answer goes out through the outbox's `reply` (split under 4096, retried, plain text if the
HTML is refused); nothing a user sends gets silence or a stack trace.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from html import escape

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from watcher.bot.facts import fact_sheet
from watcher.bot.services import Services, services_of
from watcher.classify import CATEGORIES
from watcher.i18n import N_, Translator, translator
from watcher.models import SourceOutcome
from watcher.pipeline import build_sources
from watcher.roi import EXAMPLE, RoiInputError, report, worker_fee_ton

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

ARCHIVE_SIZE = 10
OPEN_DIGEST = r"^digest:(\d+)$"  # callback data of the /archive buttons

COMMANDS = [  # in English; `commands(t)` gives them in the configured language
    BotCommand("subscribe", N_("get the weekly digest here (optionally: categories)")),
    BotCommand("unsubscribe", N_("stop the weekly digest here")),
    BotCommand("check", N_("check every source now")),
    BotCommand("last", N_("the latest digest")),
    BotCommand("archive", N_("the last 10 digests")),
    BotCommand("digest", N_("one digest from the archive, by its ID")),
    BotCommand("status", N_("last run, sources, next run, subscribers")),
    BotCommand("facts", N_("the fact sheet")),
    BotCommand("roi", N_("payback of a GPU on COCOON (or yours: rate=3.2 util=55%)")),
    BotCommand("sources", N_("what is watched")),
    BotCommand("help", N_("what this bot does")),
]
# Replies in English; each is said as t(...) of it.
HINT = N_("I answer commands only: /help lists them.")
NO_DIGEST = N_("No digest yet: /check runs the first check.")
NOT_ALLOWED = N_("Sorry, checks and subscriptions here are limited to the team's chats and "
                 "people.")
ADMINS_ONLY = N_("Only an admin of this group can change its subscription.")
TOO_MANY = N_("Too many commands from this chat: I will answer again in a minute.")
NO_FACTS = N_("The fact sheet is not available yet: it comes with the first check.")
_STATUSES = {"ok": N_("ok"), "failed": N_("failed"), "baseline": N_("baseline")}


def commands(t: Translator) -> list[BotCommand]:
    """The command menu in the language."""
    return [BotCommand(c.command, t(c.description)) for c in COMMANDS]


async def help_(update: Update, context: Context) -> None:
    services = services_of(context)
    t = _t(context)
    lines = "\n".join(f"/{c.command} — {escape(c.description)}" for c in commands(t))
    await _say(update, context, t(
        "<b>COCOON watcher</b> tells what changed on the COCOON network: the @cocoon channel, "
        "the GitHub repository, cocoon.org and the worker build.\n\n{commands}\n\nCategories: "
        "{categories}. In a group, only admins change the subscription.\n"
        "Next weekly digest: {next}.",
        commands=lines, categories=", ".join(CATEGORIES), next=_next_run(services)))


async def subscribe(update: Update, context: Context) -> None:
    services = services_of(context)
    t = _t(context)
    categories = sorted({arg.lower() for arg in context.args or []})
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        await _say(update, context, t("Unknown category: {unknown}. Choose from: {categories}.",
                                      unknown=escape(", ".join(unknown)),
                                      categories=", ".join(CATEGORIES)))
        return
    if not await _permitted(update, context, allowlist=True, admin=True):
        return
    services.store.subscribe(update.effective_chat.id, categories, services.clock())
    only = (t(", only its changes in {categories}", categories=", ".join(categories))
            if categories else "")
    await _say(update, context, t("Subscribed: this chat gets the weekly digest{only}. "
                                  "Next: {next}. /unsubscribe stops it.",
                                  only=only, next=_next_run(services)))


async def unsubscribe(update: Update, context: Context) -> None:
    if not await _permitted(update, context, allowlist=False, admin=True):
        return
    removed = services_of(context).store.unsubscribe(update.effective_chat.id)
    t = _t(context)
    await _say(update, context, t("Unsubscribed: no more weekly digests here.") if removed
               else t("This chat was not subscribed."))


async def check(update: Update, context: Context) -> None:
    services = services_of(context)
    chat_id = update.effective_chat.id
    if not await _permitted(update, context, allowlist=True, admin=False):
        return
    t = _t(context)
    wait = services.cooldown.claim(chat_id, services.clock())
    if wait is not None:
        await _say(update, context, t("This chat ran a check a moment ago; try again in {wait}, "
                                      "or see /last.", wait=_minutes(wait, t)))
        return
    joining = services.checks.running
    running = services.checks.start()
    await _say(update, context, t("A check is already running: its digest follows.") if joining
               else t("Checking {count} sources…", count=len(services.config.sources)))
    result = await running
    # Changes also go to everyone who gets the weekly digest: the check queued those with the
    # digest itself (CheckRunner). The asking chat gets it in full.
    await services.outbox.deliver(result.digest, [(chat_id, result.html)])


async def last(update: Update, context: Context) -> None:
    latest = services_of(context).store.digests(1)
    await _say(update, context, latest[0].html if latest else _t(context)(NO_DIGEST))


async def archive(update: Update, context: Context) -> None:
    rows = services_of(context).store.digests(ARCHIVE_SIZE)
    t = _t(context)
    if not rows:
        await _say(update, context, t(NO_DIGEST))
        return
    lines = [f"#{r.id} · {r.created_at:%Y-%m-%d} · {escape(r.headline)}" for r in rows]
    buttons = [[InlineKeyboardButton(f"#{r.id} · {r.created_at:%Y-%m-%d}",
                                     callback_data=f"digest:{r.id}")] for r in rows]
    await context.bot.send_message(
        update.effective_chat.id, f"<b>{t('Latest digests')}</b>\n" + "\n".join(lines),
        parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(buttons))


async def digest(update: Update, context: Context) -> None:
    number = (context.args or [""])[0].lstrip("#")
    if not number.isdigit():
        await _say(update, context, _t(context)("Which one? /digest ID, with an ID from /archive."))
        return
    await _send_archived(update, context, int(number))


async def open_digest(update: Update, context: Context) -> None:
    """An /archive button."""
    await update.callback_query.answer()
    await _send_archived(update, context, int(context.matches[0].group(1)))


async def status(update: Update, context: Context) -> None:
    services = services_of(context)
    store = services.store
    last_run, latest = store.last_run(), store.digests(1)
    t = _t(context)
    lines = [f"<b>{t('Status')}</b>"]
    if last_run is None:
        lines.append(t("No check has run yet."))
    else:
        _, started, _, outcome = last_run
        lines.append(t("Last run: {when}, {outcome}",
                       when=services.schedule.describe(started, t), outcome=outcome))
        lines += [_outcome_line(o, t) for o in (latest[0].digest.outcomes if latest else [])]
    team = len(services.config.telegram.chats)
    lines += [t("Next weekly digest: {next}", next=_next_run(services)),
              t("Subscribers: {subscribers}, team chats: {team}",
                subscribers=len(store.subscribers()), team=team),
              t("This chat's id (for telegram.chats): <code>{id}</code>",
                id=update.effective_chat.id)]
    await _say(update, context, "\n".join(lines))


async def facts(update: Update, context: Context) -> None:
    t = _t(context)
    await _say(update, context, fact_sheet(services_of(context).store, t) or t(NO_FACTS))


async def roi(update: Update, context: Context) -> None:
    """The ROI desk: the configured scenarios, or the one the arguments describe."""
    services = services_of(context)
    fee = worker_fee_ton(services.store.current_facts())
    t = _t(context)
    try:
        text = report(services.config.roi, context.args or [], fee, t=t)
    except RoiInputError as exc:
        await _say(update, context, t("{error}.\nFor example: /roi {example}",
                                      error=escape(str(exc)), example=escape(EXAMPLE)))
        return
    await _say(update, context, f"<pre>{escape(text)}</pre>")


async def sources(update: Update, context: Context) -> None:
    lines = [f'• <a href="{escape(s.link)}">{escape(s.name)}</a> ({s.kind})'
             for s in build_sources(services_of(context).config)]
    await _say(update, context, f"<b>{_t(context)('Watched')}</b>\n" + "\n".join(lines))


async def hint(update: Update, context: Context) -> None:
    """Free text in a private chat, or a command this bot does not know. In a group a command
    may be meant for another bot, so only one addressed to this bot gets the hint."""
    private = update.effective_chat.type == ChatType.PRIVATE
    addressed = f"@{context.bot.username}".lower() in (update.effective_message.text or "").lower()
    if private or addressed:
        await _say(update, context, _t(context)(HINT))


async def on_error(update: object, context: Context) -> None:
    log.error("handling an update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        t = _t(context)
        await context.bot.send_message(update.effective_chat.id,
                                       t("Something went wrong on my side; it is logged."))


async def throttle(update: Update, context: Context) -> None:
    """Before any handler: a chat sending too much gets one word, then silence for the minute."""
    chat = update.effective_chat
    if chat is None:
        return
    verdict = services_of(context).rate.judge(chat.id, services_of(context).clock())
    if verdict == "warn":
        await _say(update, context, _t(context)(TOO_MANY))
    if verdict != "ok":
        raise ApplicationHandlerStop


# --- helpers ------------------------------------------------------------------------------

def _t(context: Context) -> Translator:
    """The configured language's translator."""
    return translator(services_of(context).config.language)


async def _say(update: Update, context: Context, html: str) -> None:
    await services_of(context).outbox.reply(update.effective_chat.id, html)


async def _permitted(update: Update, context: Context, *, allowlist: bool, admin: bool) -> bool:
    """Whether the sender may do this here; if not, they are told why."""
    settings = services_of(context).config.telegram
    refusal = None
    if allowlist and (settings.allow_users or settings.allow_chats) and not (
            update.effective_user.id in settings.allow_users
            or update.effective_chat.id in settings.allow_chats):
        refusal = NOT_ALLOWED
    elif admin and not await _is_admin(update, context):
        refusal = ADMINS_ONLY
    if refusal:
        await _say(update, context, _t(context)(refusal))
    return refusal is None


async def _is_admin(update: Update, context: Context) -> bool:
    chat = update.effective_chat
    if chat.type == ChatType.PRIVATE:
        return True
    sender_chat = update.effective_message.sender_chat
    if sender_chat is not None and sender_chat.id == chat.id:
        return True  # an anonymous admin writes as the group itself
    member = await context.bot.get_chat_member(chat.id, update.effective_user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _send_archived(update: Update, context: Context, digest_id: int) -> None:
    row = services_of(context).store.digest(digest_id)
    await _say(update, context, row.html if row
               else _t(context)("No digest #{id}: see /archive.", id=digest_id))


def _next_run(services: Services) -> str:
    t = translator(services.config.language)
    return services.schedule.describe(services.schedule.next_run(services.clock()), t)


def _outcome_line(outcome: SourceOutcome, t: Translator) -> str:
    items = t.plural(outcome.items, "{count} item", "{count} items")
    detail = escape(outcome.error or "") if outcome.status == "failed" else items
    status = t(_STATUSES[outcome.status]) if outcome.status in _STATUSES else outcome.status
    return f"• {escape(outcome.source)}: {status} ({detail})"


def _minutes(wait: timedelta, t: Translator) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    return t.plural(minutes, "{count} minute", "{count} minutes")
