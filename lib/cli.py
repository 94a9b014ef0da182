"""The command line: ``python -m lib check|send|sandbox``.

Exit codes: 0 all good; 1 some rows invalid (check) or not created (send); 2 the input cannot be
used at all. Messages go to stderr in plain words; a traceback never reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from lib.model.appointment import ModelError, check_time_zone
from lib.model.flows import FLOWS, JOIN_LINK, VIRTUAL_APPOINTMENT, SmsOptions

EXIT_OK, EXIT_SOME_FAILED, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """Input the command cannot work with; the message says what to do."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":
        from lib.sandbox.cli import main as sandbox_main
        return sandbox_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_UNUSABLE
    try:
        return args.handler(args)
    except UsageError as exc:
        _say(f"error: {exc}")
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        _say("Stopped. Everything finished so far is in the journal; run the same command again to finish.")
        return EXIT_SOME_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description="Appointment Studio: Teams virtual appointments from spreadsheets.")
    commands = parser.add_subparsers(dest="command", metavar="check|send|sandbox")

    check = commands.add_parser("check", help="read, map and validate a CSV or Excel file; sends nothing")
    check.add_argument("file")
    check.add_argument("--sheet", help="Excel sheet name (default: the first sheet with data)")
    check.add_argument("--json", action="store_true", help="print one JSON object with every row")
    _schedule_options(check)
    check.set_defaults(handler=_check)

    send = commands.add_parser("send", help="create one appointment per valid row (idempotent)")
    send.add_argument("file")
    send.add_argument("--connection", required=True, metavar="PROFILE", help="connection profile JSON file")
    send.add_argument("--flow", choices=FLOWS, help="default: virtual-appointment on the sandbox, join-link on a real tenant")
    send.add_argument("--concurrency", type=int, default=8, metavar="N", help="requests in flight at once (default 8)")
    send.add_argument("--out", default="RESULTS.csv", metavar="RESULTS.csv", help="where to write the results")
    send.add_argument("--sheet", help="Excel sheet name")
    send.add_argument("--max-rate", type=float, metavar="N", help="at most N Graph requests per second")
    send.add_argument("--max-wait", type=float, default=900.0, metavar="SECONDS",
                      help="seconds of waiting out Graph's throttling before a row fails (default 900)")
    send.add_argument("--no-batch", action="store_true", help="send requests one by one instead of JSON batches")
    send.add_argument("--sms", action="store_true", help="join-link flow: text the link to clients (Teams Premium, US numbers)")
    _schedule_options(send)
    send.set_defaults(handler=_send)

    commands.add_parser("sandbox", help="run the local Graph sandbox (see: python -m lib sandbox --help)", add_help=False)
    return parser


def _schedule_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("schedule (for rows without times)")
    group.add_argument("--start", metavar="ISO-DATETIME", help="first slot, e.g. 2026-12-01T09:00 (local time in --tz)")
    group.add_argument("--duration", type=int, default=30, metavar="MINUTES")
    group.add_argument("--gap", type=int, default=0, metavar="MINUTES")
    group.add_argument("--tz", default="UTC", metavar="IANA-ZONE", help="e.g. America/New_York (default UTC)")
    group.add_argument("--subject", default="Virtual appointment", metavar="TEXT")
    group.add_argument("--hours", metavar="HH:MM-HH:MM", help="working hours; slots that don't fit move to the next day")
    group.add_argument("--weekdays", action="store_true", help="skip Saturdays and Sundays")


# -- check --------------------------------------------------------------------------------------
def _check(args) -> int:
    report = _load_report(args, organizer="")
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for row in report.rows:
            for message in row.errors:
                _say(f"Row {row.row}: {message}")
            for message in row.warnings:
                _say(f"Row {row.row} (warning): {message}")
        _say(f"{report.total} rows: {report.ok} ready, {report.error} need attention; "
             f"{len(report.appointments)} appointments.")
    return EXIT_OK if report.error == 0 else EXIT_SOME_FAILED


def _load_report(args, organizer: str):
    from lib.spreadsheet.columns import auto_map, missing_required
    from lib.spreadsheet.schedule import Schedule, parse_hours
    from lib.spreadsheet.read import SpreadsheetError, read_table
    from lib.spreadsheet.check import check_sheet

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file. Check the path and try again.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        sheet = read_table(data, path.name, sheet=args.sheet)
    except SpreadsheetError as exc:
        raise UsageError(f"{path.name}: {exc}") from None
    mapping = auto_map(sheet.headers)
    missing = missing_required(mapping)
    if missing:
        found = ", ".join(f'"{h}"' for h in sheet.headers[:12]) or "none"
        raise UsageError(f"{path.name}: no recognisable columns for: {'; '.join(missing)} "
                         f"Columns found: {found}. Rename a column (e.g. \"Email\", \"Name\", \"Phone\") and try again.")
    try:
        check_time_zone(args.tz, "--tz")
        start = None
        if args.start:
            try:
                start = datetime.fromisoformat(args.start)
            except ValueError:
                raise UsageError(f"--start {args.start!r} is not a date and time; write it like 2026-12-01T09:00") from None
        hours = parse_hours(args.hours) if args.hours else None
        schedule = Schedule(start=start, duration=args.duration, gap=args.gap, tz=args.tz, subject=args.subject,
                            hours=hours, weekdays_only=args.weekdays)
        return check_sheet(sheet, mapping, schedule, organizer=organizer)
    except ModelError as exc:
        raise UsageError(str(exc)) from None


# -- send ---------------------------------------------------------------------------------------
def _send(args) -> int:
    from lib.graph.signin import AuthError, token_provider_for
    from lib.bulk.export import to_csv_bytes
    from lib.graph import GraphError, open_client
    from lib.bulk.journal import Journal, default_journal_path
    from lib.graph.profile import Profile, ProfileError
    from lib.bulk.results import COLUMNS, result_rows
    from lib.bulk.runner import Runner

    try:
        profile = Profile.load(args.connection)
    except ProfileError as exc:
        raise UsageError(f"{args.connection}: {exc}") from None
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if not args.max_wait >= 0:
        raise UsageError(f"--max-wait must be 0 or more seconds, got {args.max_wait:g}")
    report = _load_report(args, organizer=profile.organizer if profile.auth == "client_credentials" else "")
    invalid = [(r.row, "; ".join(r.errors)) for r in report.rows if r.status == "error"]
    for row, message in invalid:
        _say(f"Row {row} will be skipped: {message}")
    flow = args.flow or (VIRTUAL_APPOINTMENT if profile.is_sandbox else JOIN_LINK)

    def show_code(flow_info):
        _say(flow_info.get("message") or f"Open {flow_info.get('verification_uri')} and enter {flow_info.get('user_code')}")

    try:
        tokens = token_provider_for(profile, on_device_code=show_code)
        client = open_client(profile, tokens, max_per_second=args.max_rate, max_wait=args.max_wait)
    except AuthError as exc:
        raise UsageError(f"sign-in failed: {exc.explanation} {exc.fix}") from None
    journal = Journal(default_journal_path())
    printer = _ProgressPrinter()
    runner = Runner(client, journal, flow=flow, concurrency=args.concurrency, use_batch=not args.no_batch,
                    sms=SmsOptions() if args.sms else None, on_progress=printer)
    try:
        for warning in runner.quota_warnings(report.appointments):
            _say(f"warning: {warning}")
        result = runner.run(report.appointments, source=str(Path(args.file).resolve()), invalid_rows=invalid)
    except GraphError as exc:
        raise UsageError(f"{exc.explanation or exc} {exc.fix}".strip()) from None
    except AuthError as exc:
        raise UsageError(f"sign-in failed: {exc.explanation} {exc.fix}") from None
    finally:
        printer.close()
        journal.close()
    rows = result_rows(result.outcomes, invalid)
    out = Path(args.out)
    try:
        out.write_bytes(to_csv_bytes(COLUMNS, [[r[c] for c in COLUMNS] for r in rows]))
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}. Choose another --out path.") from None
    p = result.progress
    _say(f"{p.created} created, {p.existing} already existed, {p.failed} failed, {len(invalid)} invalid rows "
         f"in {p.elapsed:.1f}s. Results: {out}")
    for outcome in result.outcomes:
        if outcome.status == "failed":
            _say(f"Rows {','.join(map(str, outcome.appointment.source_rows)) or '?'}: {outcome.error}")
    return EXIT_OK if result.all_done else EXIT_SOME_FAILED


class _ProgressPrinter:
    """One updating progress line on a terminal; a line every few seconds otherwise."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.lock = threading.Lock()
        self.printed = False

    def __call__(self, p) -> None:
        now = time.monotonic()
        with self.lock:
            if not p.finished and now - self.last < (0.2 if self.tty else 5.0):
                return
            self.last = now
            left = f", about {p.seconds_left:.0f}s left" if p.seconds_left else ""
            text = f"{p.done}/{p.total} done ({p.created} created, {p.existing} existing, {p.failed} failed){left}"
            if self.tty:
                sys.stderr.write("\r" + text.ljust(79))
                self.printed = True
            elif p.total and not p.finished:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty and self.printed:
            sys.stderr.write("\n")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
