"""`watcher ...`: a thin shell over the pipeline and the store.

The bot (python-telegram-bot), the archive site (Jinja2) and the demo are imported by the
commands that use them, not here: every `watcher check` would otherwise pay ~0.1 s for them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from watcher import __version__, classify, config, digest, roi
from watcher.classify import contract
from watcher.classify.sheet import facts_table
from watcher.config import Config, ConfigError
from watcher.i18n import translator
from watcher.models import SourceOutcome
from watcher.pipeline import run_check
from watcher.store import Store, StoreError

EXIT_OK, EXIT_ALL_FAILED, EXIT_USAGE = 0, 1, 2


def entry() -> None:
    """The `watcher` command: `main`, then exit."""
    # What the imports built lives as long as the process: left out of every collection, a
    # check of a hundred pages spends ~25 ms less collecting (one full collection less)
    gc.freeze()
    code = main()
    # Objects the collector would only find to free as the process ends: the OS frees them
    # anyway, and that last full collection takes ~60 ms after a check of a hundred pages.
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # its retry warnings repeat what the digest says about the source
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    try:
        return args.handler(args)
    except (ConfigError, StoreError) as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watcher", description="Watch the COCOON network and report what changed.")
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="fetch every source once and print the digest")
    _config_option(check)
    only_print = check.add_mutually_exclusive_group()
    only_print.add_argument("--dry-run", action="store_true",
                            help="fetch, diff and print; store and post nothing")
    only_print.add_argument("--post", action="store_true",
                            help="also send the digest to the team chats and subscribers "
                                 "(through the bot's outbox; needs the bot token)")
    check.add_argument("--json", action="store_true", help="print the digest as JSON")
    check.add_argument("--source", action="append", metavar="NAME",
                       help="check only this source (repeatable)")
    check.set_defaults(handler=_check)

    archive = commands.add_parser("archive", help="browse stored digests")
    archive_commands = archive.add_subparsers(dest="archive_command", required=True)
    listing = archive_commands.add_parser("list", help="the latest digests, newest first")
    _config_option(listing)
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(handler=_archive_list)
    show = archive_commands.add_parser("show", help="one digest")
    _config_option(show)
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.add_argument("--html", action="store_true", help="the Telegram HTML version")
    show.set_defaults(handler=_archive_show)
    export = archive_commands.add_parser("export", help="write the archive as a static site")
    _config_option(export)
    export.add_argument("folder", type=Path)
    export.set_defaults(handler=_archive_export)
    serve = archive_commands.add_parser(
        "serve", help="serve the archive site (exported afresh unless a folder is given)")
    _config_option(serve)
    serve.add_argument("folder", type=Path, nargs="?")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1", help="default: this machine only")
    serve.set_defaults(handler=_archive_serve)

    judge = commands.add_parser(
        "classify", help="classify one text (stdin), a change (--before OLD NEW) or a batch")
    _config_option(judge)
    judge.add_argument("--json", action="store_true", help="answer in JSON (the stable contract)")
    judge.add_argument("--source", choices=sorted(contract.ITEM_KINDS), default="docs",
                       help="what kind of text it is (default: docs)")
    judge.add_argument("--before", metavar="OLD_FILE", help="the old version; NEW_FILE is the new")
    judge.add_argument("new_file", nargs="?", metavar="NEW_FILE")
    judge.add_argument("--batch", metavar="FILE.jsonl",
                       help='lines {"id","source","text"} or {"id","source","before","after"}')
    judge.set_defaults(handler=_classify)

    facts = commands.add_parser("facts", help="the current fact sheet: value, since, where from")
    _config_option(facts)
    facts.add_argument("--json", action="store_true")
    facts.set_defaults(handler=_facts)

    desk = commands.add_parser(
        "roi", help="payback of a GPU on COCOON: the configured scenarios, or your own",
        description="With no values: the [roi] scenarios, their break-evens and the rate the "
                    "on-chain worker fee implies. With values, one scenario of your own; what "
                    "is left out comes from the base scenario.")
    _config_option(desk)
    desk.add_argument("values", nargs="*", metavar="KEY=VALUE",
                      help="rate (USD/GPU-hr), util (55%% or 0.55), capex (USD), "
                           f"cost (USD/day), e.g. {roi.EXAMPLE.replace('%', '%%')}")
    desk.set_defaults(handler=_roi)

    run = commands.add_parser(
        "run", help="start the Telegram bot and the weekly schedule (runs until stopped)")
    _config_option(run)
    run.set_defaults(handler=_run)

    backup = commands.add_parser("backup", help="copy the store, safely, while it is in use")
    _config_option(backup)
    backup.add_argument("path", type=Path, help="the new file to write")
    backup.set_defaults(handler=_backup)

    demo = commands.add_parser(
        "demo", help="two recorded weeks of the real sources, served locally: no token, no network")
    demo.set_defaults(handler=_demo)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH",
                        help=f"config file (default: ${config.ENV_VAR} or {config.DEFAULT_PATH})")


def _load(args: argparse.Namespace) -> Config:
    return config.load(config.resolve_path(args.config))


def _check(args: argparse.Namespace) -> int:
    settings = _load(args)
    known = {s.name for s in settings.sources}
    for name in args.source or []:
        if name not in known:
            raise ConfigError(settings.path, "sources", f"no source named {name!r} (--source)",
                              f"use one of {', '.join(sorted(known))}")
    token = _bot_token(settings) if args.post else None
    store = Store.open(":memory:" if args.dry_run else settings.store_path)
    recipients = None
    if token:
        from watcher.bot.delivery import audience

        # the deliveries are queued with the digest, in one transaction: see Store.commit_run
        recipients = partial(audience, settings, store)
    try:
        result = asyncio.run(run_check(settings, store, dry_run=args.dry_run, only=args.source,
                                       progress=_progress_printer(), recipients=recipients))
        if token:
            from watcher.bot import app as bot

            asyncio.run(bot.post(settings, store, token, result.digest))
    finally:
        store.close()
    if args.json:
        print(json.dumps(digest.render_json(result.digest, translator(settings.language)),
                         ensure_ascii=False, indent=2))
    elif settings.digest.send_empty or not digest.is_quiet(result.digest):
        print(result.text, end="")
    return EXIT_ALL_FAILED if result.all_failed else EXIT_OK


def _progress_printer():
    """Per-source progress on a terminal; silence when piped or run by cron."""
    if not sys.stderr.isatty():
        return None

    def show(outcome: SourceOutcome) -> None:
        detail = outcome.error if outcome.status == "failed" else f"{outcome.items} items"
        print(f"  {outcome.source}: {outcome.status} ({detail})", file=sys.stderr)

    return show


def _archive_list(args: argparse.Namespace) -> int:
    store = Store.open(_load(args).store_path)
    try:
        rows = store.digests(args.limit)
    finally:
        store.close()
    if not rows:
        print("The archive is empty: run `watcher check` first.")
    for row in rows:
        print(f"#{row.id:<5} {row.created_at:%Y-%m-%d %H:%M}  {row.headline}")
    return EXIT_OK


def _archive_export(args: argparse.Namespace) -> int:
    from watcher import archive

    settings = _load(args)
    store = Store.open(settings.store_path)
    try:
        count = archive.export(store, args.folder, settings.archive.public_url,
                               settings.digest.excerpt_chars, translator(settings.language))
    finally:
        store.close()
    print(f"{count} digests written to {args.folder} (open {args.folder / 'index.html'})")
    return EXIT_OK


def _archive_serve(args: argparse.Namespace) -> int:
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    with tempfile.TemporaryDirectory(prefix="watcher-archive-") as scratch:
        folder = args.folder
        if folder is None:
            folder = Path(scratch) / "site"
            args.folder = folder
            _archive_export(args)
        handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
        with ThreadingHTTPServer((args.host, args.port), handler) as server:
            print(f"Serving {folder} at http://{args.host}:{server.server_address[1]}/ "
                  "(Ctrl-C stops)")
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how one stops it
                server.serve_forever()
    return EXIT_OK


def _archive_show(args: argparse.Namespace) -> int:
    settings = _load(args)
    store = Store.open(settings.store_path)
    try:
        row = store.digest(args.id)
    finally:
        store.close()
    if row is None:
        print(f"watcher: no digest #{args.id} in {settings.store_path}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(digest.render_json(row.digest, translator(settings.language)),
                         ensure_ascii=False, indent=2))
    else:
        print(row.html if args.html else row.text, end="\n" if args.html else "")
    return EXIT_OK


def _rules(args: argparse.Namespace) -> classify.Rules:
    """The configured rules; the shipped defaults alone when no config file is around."""
    path = config.resolve_path(args.config)
    if args.config is None and not path.exists():
        return classify.load()
    return classify.load(config.load(path).rules_path)


def _classify(args: argparse.Namespace) -> int:
    rules = _rules(args)
    try:
        if args.batch:
            return _classify_batch(args.batch, rules)
        if args.before or args.new_file:
            if not (args.before and args.new_file):
                raise contract.BadInput("a change needs both --before OLD_FILE and NEW_FILE")
            verdict = contract.judge_pair(_read(args.before), _read(args.new_file), rules,
                                          args.source)
        else:
            verdict = contract.judge_one(_read_stdin(), rules, args.source)
    except contract.BadInput as exc:
        print(f"watcher classify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_verdict(verdict.to_dict(), as_json=args.json)
    return EXIT_OK


def _classify_batch(path: str, rules: classify.Rules) -> int:
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            answer = contract.judge_record(json.loads(line), rules)
        except (json.JSONDecodeError, contract.BadInput) as exc:
            raise contract.BadInput(f"{path}, line {number}: {exc}") from None
        print(json.dumps(answer, ensure_ascii=False), flush=False)
    return EXIT_OK


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise contract.BadInput(f"cannot read {path}: {exc}") from None


def _read_stdin() -> str:
    try:
        return sys.stdin.read()
    except UnicodeDecodeError as exc:
        raise contract.BadInput(f"standard input is not UTF-8 text: {exc}") from None


def _print_verdict(answer: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer, ensure_ascii=False))
        return
    print("categories: " + ", ".join(answer["categories"]))
    print(f"hardware direction: {answer['hardware_direction'] or '-'}")
    for name, value in answer["facts"].items():
        print(f"  {name}: {value}")


def _facts(args: argparse.Namespace) -> int:
    store = Store.open(_load(args).store_path)
    try:
        sheet = store.current_facts()
    finally:
        store.close()
    if args.json:
        print(json.dumps({name: vars(fact) for name, fact in sheet.items()}, ensure_ascii=False,
                         indent=2))
    else:
        print(facts_table(sheet.values()))
    return EXIT_OK


def _roi(args: argparse.Namespace) -> int:
    settings, fee, language = _roi_inputs(args)
    try:
        print(roi.report(settings, args.values, fee, t=translator(language)))
    except roi.RoiInputError as exc:
        print(f"watcher roi: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _roi_inputs(args: argparse.Namespace) -> tuple[roi.RoiSettings, float | None, str]:
    """The [roi] settings, the fact sheet's worker fee and the language; the shipped defaults
    without a config file, and no fee before the first check (the desk needs neither)."""
    path = config.resolve_path(args.config)
    if args.config is None and not path.exists():
        return roi.RoiSettings(), None, "en"
    settings = config.load(path)
    if not settings.store_path.exists():
        return settings.roi, None, settings.language
    store = Store.open(settings.store_path)
    try:
        return settings.roi, roi.worker_fee_ton(store.current_facts()), settings.language
    finally:
        store.close()


def _run(args: argparse.Namespace) -> int:
    from watcher.bot import app as bot

    settings = _load(args)
    bot.run(settings, _bot_token(settings))
    return EXIT_OK


def _bot_token(settings: Config) -> str:
    from watcher.bot.secret import keep_out_of_logs, read_token

    token = read_token(settings)
    keep_out_of_logs(token)
    return token


def _backup(args: argparse.Namespace) -> int:
    store = Store.open(_load(args).store_path)
    try:
        store.backup(args.path)
    finally:
        store.close()
    print(f"Backup written to {args.path}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from watcher.demo import run_demo

    return run_demo(sys.stdout)
