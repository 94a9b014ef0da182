"""The command line: ``python -m lib check|send|notify|ics|sandbox``.

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
from lib.model.collector import collector_paused
from lib.model.flows import ALL_FLOWS, BOOKINGS, JOIN_LINK, VIRTUAL_APPOINTMENT, SmsOptions

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
    commands = parser.add_subparsers(dest="command", metavar="check|send|notify|ics|sandbox")

    check = commands.add_parser("check", help="read, map and validate a CSV or Excel file; sends nothing")
    check.add_argument("file")
    check.add_argument("--sheet", help="Excel sheet name (default: the first sheet with data)")
    check.add_argument("--json", action="store_true", help="print one JSON object with every row")
    _schedule_options(check)
    check.set_defaults(handler=_check)

    send = commands.add_parser("send", help="create one appointment per valid row (idempotent)")
    send.add_argument("file")
    send.add_argument("--connection", required=True, metavar="PROFILE", help="connection profile JSON file")
    send.add_argument("--flow", choices=ALL_FLOWS, help="default: virtual-appointment on the sandbox, join-link on a real tenant")
    send.add_argument("--concurrency", type=int, default=8, metavar="N", help="requests in flight at once (default 8)")
    send.add_argument("--out", default="RESULTS.csv", metavar="RESULTS.csv", help="where to write the results")
    send.add_argument("--sheet", help="Excel sheet name")
    send.add_argument("--max-rate", type=float, metavar="N", help="at most N Graph requests per second")
    send.add_argument("--max-wait", type=float, default=900.0, metavar="SECONDS",
                      help="seconds of waiting out Graph's throttling before a row fails (default 900)")
    send.add_argument("--no-batch", action="store_true", help="send requests one by one instead of JSON batches")
    send.add_argument("--sms", action="store_true", help="join-link flow: text the link to clients (Teams Premium, US numbers)")
    bookings = send.add_argument_group("bookings flow (default: the profile's \"bookings\" object)")
    bookings.add_argument("--business", metavar="MAILBOX", help="the booking business's mailbox")
    bookings.add_argument("--service", metavar="ID-OR-NAME", help="the service to book (default: the first)")
    bookings.add_argument("--staff", action="append", metavar="ID-OR-UPN", help="a staff member (repeatable)")
    send.add_argument("--notify", choices=["email"], help="email each client their own link and an invitation")
    send.add_argument("--template", metavar="FILE", help="with --notify email: TOML or JSON file with subject and body")
    send.add_argument("--calendar", action="store_true", help="also put each appointment on the organizer's calendar")
    _schedule_options(send)
    send.set_defaults(handler=_send)

    notify = commands.add_parser("notify", help="email each client of a finished run their own link and an invitation")
    notify.add_argument("results", metavar="RESULTS.csv")
    notify.add_argument("--connection", required=True, metavar="PROFILE", help="connection profile JSON file")
    notify.add_argument("--template", metavar="FILE", help="TOML or JSON file with subject and body")
    notify.add_argument("--again", metavar="ROW,...", help="send again to the clients of these rows")
    notify.add_argument("--calendar", action="store_true", help="also put each appointment on the organizer's calendar")
    notify.set_defaults(handler=_notify)

    calendar = commands.add_parser("ics", help="write a calendar file per appointment and one with all of them")
    calendar.add_argument("results", metavar="RESULTS.csv")
    calendar.add_argument("--out", required=True, metavar="DIR", help="folder for <row>.ics and appointments.ics")
    calendar.set_defaults(handler=_ics)

    commands.add_parser("sandbox", help="run the local Graph sandbox (see: python -m lib sandbox --help)", add_help=False)
    return parser


def _schedule_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("schedule (for rows without times)")
    group.add_argument("--start", metavar="ISO-DATETIME", help="first slot, e.g. 2026-12-01T09:00 (local time in --tz)")
    group.add_argument("--duration", type=int, metavar="MINUTES",
                       help="default 30; in the bookings flow, the service's length")
    group.add_argument("--gap", type=int, default=0, metavar="MINUTES")
    group.add_argument("--tz", default="UTC", metavar="IANA-ZONE", help="e.g. America/New_York (default UTC)")
    group.add_argument("--subject", default="Virtual appointment", metavar="TEXT")
    group.add_argument("--hours", metavar="HH:MM-HH:MM", help="working hours; slots that don't fit move to the next day")
    group.add_argument("--weekdays", action="store_true", help="skip Saturdays and Sundays")
    parser.add_argument("--date-order", choices=("auto", "DMY", "MDY", "YMD"), default="auto", type=_date_order,
                        help="how to read dates like 03/04/2027 (default auto: decided per column from its "
                             "values, with a warning on each row that could be read either way)")


def _date_order(text: str) -> str:
    return text if text == "auto" else text.upper()


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
        for column in report.undecided_dates:  # the question the app asks once per column
            _say(f"{column.question} {column.ambiguous_rows} rows were read {column.order_words} because "
                 f"{column.reason}; to choose, add --date-order DMY or --date-order MDY.")
        _say(f"{report.total} rows: {report.ok} ready, {report.error} need attention; "
             f"{len(report.appointments)} appointments.")
    return EXIT_OK if report.error == 0 else EXIT_SOME_FAILED


def _load_report(args, organizer: str):
    checker, sheet = _sheet_checker(args, organizer)
    return checker.check(sheet)


def _sheet_checker(args, organizer: str):
    """(SheetChecker, Sheet) for the file and options; what makes the file unusable is a UsageError here."""
    from lib.spreadsheet.columns import auto_map, missing_required
    from lib.spreadsheet.schedule import Schedule, parse_hours
    from lib.spreadsheet.read import SpreadsheetError, read_table
    from lib.spreadsheet.check import SheetChecker

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
        schedule = Schedule(start=start, duration=args.duration or 30, gap=args.gap, tz=args.tz, subject=args.subject,
                            hours=hours, weekdays_only=args.weekdays)
        return SheetChecker(mapping, schedule, organizer=organizer, date_order=args.date_order,
                            sms=bool(getattr(args, "sms", False))), sheet
    except ModelError as exc:
        raise UsageError(str(exc)) from None


# -- send ---------------------------------------------------------------------------------------
def _send(args) -> int:
    started = time.monotonic()  # the summary reports what the user waited for: reading, sign-in and sending
    # Start-up: the modules and the checked rows all live until exit, so they are frozen out of collections.
    with collector_paused(freeze=True):
        profile, flow, template = _send_options(args)
        connect = _connector(args, profile)  # a cached sign-in is fetched on its own thread while the rest loads
        from lib.bulk.journal import JournalError
        from lib.bulk.results import invalid_rows
        from lib.graph import GraphError
        from lib.graph.signin import AuthError

        client = target = report = None
        organizer = profile.organizer if profile.auth == "client_credentials" else ""
        if flow == BOOKINGS:  # the service decides the slots' length, so it is read before the file
            client = connect()
            target = _bookings_target(args, profile, client)
            if args.duration is None:
                args.duration = target.duration_minutes
            report = _load_report(args, organizer)
        else:  # a batch's rows now, the rest of the file while the first batches are sent
            checker, sheet = _sheet_checker(args, organizer)
            from lib.graph.pacing import MAX_BATCH
            batch = 1 if args.no_batch else MAX_BATCH
            first = _check_ahead(checker, sheet, batch)
    printer = _ProgressPrinter()
    invalid: list = []

    def settle(report):  # the invalid rows, told once the whole file is checked
        invalid[:] = invalid_rows(report)
        for row, message in invalid:
            printer.say(f"Row {row} will be skipped: {message}")
        return report.appointments, invalid

    def rest():  # a batch more at a time for the first senders, then four times as many rows each time, then all
        wave = args.concurrency * batch
        for rows in range(2 * batch, wave + 1, batch):
            yield _check_ahead(checker, sheet, rows), []
        rows = wave
        while (rows := 4 * rows) < len(sheet.rows):  # a long file: the senders need not wait for all of it
            yield _check_ahead(checker, sheet, rows), []
        yield settle(checker.check(sheet))

    if report is not None:
        settle(report)
    client = client or connect()
    journal = _open_journal()
    lines = _results_file(args, flow)
    try:
        runner = _runner(args, flow, client, journal, target, printer, lines)
        source = str(Path(args.file).resolve())
        if report is not None:
            result = runner.run(report.appointments, source=source, invalid_rows=invalid)
        else:
            result = runner.run(first, source=source, rest=rest, rest_size=len(sheet.rows) - len(first))
        notified = _notify_after_send(client, result, template, args.calendar) if args.notify else None
    except GraphError as exc:
        raise UsageError(f"{exc.explanation or exc} {exc.fix}".strip()) from None
    except AuthError as exc:
        raise UsageError(f"sign-in failed: {exc.explanation} {exc.fix}") from None
    except (JournalError, ModelError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        printer.close()
        journal.close()
    out = _write_send_results(args, flow, result, invalid, notified, lines)
    p = result.progress
    _say(f"{p.created} created, {p.updated} updated, {p.existing} already existed (confirmed by Graph), "
         f"{p.failed} failed, {len(invalid)} invalid rows in {_seconds(time.monotonic() - started)}. Results: {out}")
    for outcome in result.outcomes:
        if outcome.status == "failed":
            _say(f"Rows {','.join(map(str, outcome.appointment.source_rows)) or '?'}: {outcome.error}")
    told = notified[1] if notified else EXIT_OK
    return EXIT_OK if result.all_done and told == EXIT_OK else EXIT_SOME_FAILED


def _check_ahead(checker, sheet, rows: int) -> list:
    """The appointments of the first ``rows`` rows that can be sent before the rest is checked."""
    try:
        return checker.check_ahead(sheet, rows)
    except ModelError as exc:
        raise UsageError(str(exc)) from None


def _send_options(args):
    """(profile, flow, template) once every option has been checked; nothing is read or sent before."""
    from lib.graph.profile import Profile, ProfileError

    try:
        profile = Profile.load(args.connection)
    except ProfileError as exc:
        raise UsageError(f"{args.connection}: {exc}") from None
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if (args.template or args.calendar) and not args.notify:
        raise UsageError("--template and --calendar go with --notify email; add it or leave them out.")
    template = _template(args.template) if args.notify else None   # refused before anything is sent
    if not args.max_wait >= 0:
        raise UsageError(f"--max-wait must be 0 or more seconds, got {args.max_wait:g}")
    flow = args.flow or (VIRTUAL_APPOINTMENT if profile.is_sandbox else JOIN_LINK)
    if flow != BOOKINGS and (args.business or args.service or args.staff):
        raise UsageError("--business, --service and --staff go with --flow bookings.")
    if flow == BOOKINGS and args.notify:
        raise UsageError("The bookings flow needs no --notify: Microsoft Bookings emails each customer their "
                         "confirmation and link. Leave --notify out.")
    return profile, flow, template


def _connector(args, profile):
    """A function that signs in (showing a device code when one is needed) and returns the Graph client.

    A cached sign-in is fetched at once on another thread, while the spreadsheet is read and checked.
    """
    from lib.graph.signin import AuthError, token_provider_for

    if args.notify:
        from lib.notify.access import token_provider
        tokens = token_provider(profile, on_device_code=_show_code)  # one sign-in with the mail permissions
    elif (args.flow or "") == BOOKINGS:
        from lib.graph.bookings import BOOKINGS_PERMISSIONS
        from lib.graph.signin import token_provider_with
        tokens = token_provider_with(profile, BOOKINGS_PERMISSIONS, "bookings", on_device_code=_show_code)
    else:
        tokens = token_provider_for(profile, on_device_code=_show_code)
    tokens.prefetch()

    def connect():
        from lib.graph import open_client

        try:
            return open_client(profile, tokens, max_per_second=args.max_rate, max_wait=args.max_wait)
        except AuthError as exc:
            raise UsageError(f"sign-in failed: {exc.explanation} {exc.fix}") from None
    return connect


def _open_journal():
    from lib.bulk.journal import Journal, JournalError, default_journal_path

    try:
        journal = Journal(default_journal_path())
    except JournalError as exc:
        raise UsageError(str(exc)) from None
    if journal.notice:
        _say(f"warning: {journal.notice}")
    return journal


def _runner(args, flow, client, journal, target, printer, lines=None):
    if flow == BOOKINGS:
        from lib.bulk.bookings_runner import BookingsRunner
        return BookingsRunner(client, journal, target, concurrency=min(args.concurrency, 4), on_progress=printer)
    from lib.bulk.runner import Runner
    return Runner(client, journal, flow=flow, concurrency=args.concurrency, use_batch=not args.no_batch,
                  sms=SmsOptions() if args.sms else None, on_progress=printer,
                  on_outcome=lines.add if lines is not None else None,
                  on_warning=lambda warning: printer.say(f"warning: {warning}"))


def _results_file(args, flow):
    """RESULTS.csv written line by line while sending, when nothing after the run adds to it (None otherwise)."""
    if flow == BOOKINGS or args.notify:
        return None
    from lib.bulk.results import COLUMNS, ResultsFile
    return ResultsFile(COLUMNS + ["notified"])


def _write_send_results(args, flow, result, invalid, notified, lines=None) -> Path:
    """RESULTS.csv: the contract's columns, bookingAppointmentId for bookings, then notified."""
    from lib.bulk.export import to_csv_bytes
    from lib.bulk.results import COLUMNS, result_rows

    out = Path(args.out)
    if lines is not None:
        return _write_file(out, lines.to_bytes(result.outcomes, invalid))
    rows, columns = result_rows(result.outcomes, invalid), COLUMNS
    if flow == BOOKINGS:  # the contract: the booking's id in its own column, no onlineMeetingId
        columns = COLUMNS + ["bookingAppointmentId"]
        rows = [{**r, "onlineMeetingId": "", "bookingAppointmentId": r["onlineMeetingId"]} for r in rows]
    labels = notified[0] if notified else {}   # the contract: `notified` is empty when not asked
    columns = columns + ([] if "notified" in columns else ["notified"])
    for r in rows:
        r["notified"] = labels.get(r["row"], r.get("notified", ""))
    return _write_file(out, to_csv_bytes(columns, [[r[c] for c in columns] for r in rows]))


def _write_file(out: Path, data: bytes) -> Path:
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}. Choose another --out path.") from None
    return out


def _notify_after_send(client, result, template, calendar: bool):
    """(row → notified label, exit code) for the appointments this run confirmed."""
    from lib.bulk.journal import default_journal_path
    from lib.notify import run_results
    from lib.notify.calendar import put_on_calendar
    from lib.notify.ledger import Ledger
    from lib.notify.notifier import Notifier, Target

    targets = [Target(o.key, o.appointment, o.client_join_web_url, o.organizer_id, o.appointment.source_rows)
               for o in result.outcomes if o.status in run_results.CONFIRMED and o.client_join_web_url]
    if not targets or result.cancelled:
        return {}, EXIT_OK
    ledger = Ledger(default_journal_path())
    try:
        outcomes = Notifier(client, ledger, template, on_progress=_told_printer(client.profile, targets)).notify(targets)
    finally:
        ledger.close()
    placed = put_on_calendar(client, targets) if calendar else {}
    code = _notify_report(outcomes, [], placed, targets, None)
    return run_results.row_labels(outcomes), code


# -- notify and ics -----------------------------------------------------------------------------
def _notify(args) -> int:
    from lib.bulk.journal import Journal, default_journal_path
    from lib.graph import GraphError, open_client
    from lib.graph.profile import Profile, ProfileError
    from lib.graph.signin import AuthError
    from lib.notify import access, run_results
    from lib.notify.calendar import put_on_calendar
    from lib.notify.ledger import Ledger
    from lib.notify.notifier import Notifier

    template = _template(args.template)        # a bad placeholder stops here, before anything is sent
    try:
        profile = Profile.load(args.connection)
    except ProfileError as exc:
        raise UsageError(f"{args.connection}: {exc}") from None
    results = _results(args.results)
    again_rows = _rows(args.again)
    journal = Journal(default_journal_path())
    ledger = Ledger(default_journal_path())
    try:
        targets, unknown = run_results.targets(results, journal, profile.key)
        client = open_client(profile, access.token_provider(profile, on_device_code=_show_code))
        again = {(t.appointment_key, c.email.lower()) for t in targets for i, c in enumerate(t.appointment.clients)
                 if c.email and _picked(t, i, again_rows)}
        outcomes = Notifier(client, ledger, template, on_progress=_told_printer(profile, targets)).notify(
            targets, again=again)
        calendar = put_on_calendar(client, targets) if args.calendar else {}
    except GraphError as exc:
        raise UsageError(f"{exc.explanation or exc} {exc.fix}".strip()) from None
    except AuthError as exc:
        raise UsageError(f"sign-in failed: {exc.explanation} {exc.fix}") from None
    finally:
        journal.close()
        ledger.close()
    labels = run_results.row_labels(outcomes)
    for row, why in unknown:
        labels[int(row["row"])] = f"failed: {why}"
    _write_results(results, labels)
    return _notify_report(outcomes, unknown, calendar, targets, args.results)


def _notify_report(outcomes, unknown, calendar, targets, path) -> int:
    counts = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        rows = ",".join(map(str, outcome.target.rows)) or "?"
        if outcome.status == "no email address":
            _say(f"Rows {rows}: {outcome.client.label} has no email address; tell them another way.")
        elif outcome.status == "failed":
            _say(f"Rows {rows}: {outcome.client.label}: {outcome.error}")
    for row, why in unknown:
        _say(f"Row {row['row']}: the client's email address is unknown: {why}.")
    names = {t.appointment_key: ",".join(map(str, t.rows)) for t in targets}
    for key, error in calendar.items():
        if error:
            _say(f"Rows {names.get(key, '?')}: not put on the calendar: {error}")
    _say(f"{counts.get('sent', 0)} emailed now, {counts.get('already sent', 0)} already emailed, "
         f"{counts.get('no email address', 0)} without an email address, {counts.get('failed', 0)} failed"
         + (f", {sum(1 for e in calendar.values() if not e)} on the calendar" if calendar else "")
         + (f". Results: {path}" if path else "."))
    ok = not counts.get("failed") and not unknown and not any(calendar.values())
    return EXIT_OK if ok else EXIT_SOME_FAILED


def _ics(args) -> int:
    from lib.bulk.journal import Journal, default_journal_path
    from lib.notify import run_results

    results = _results(args.results)
    journal = Journal(default_journal_path())
    try:
        written, skipped = run_results.write_calendar_files(results, journal, args.out)
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out}: {exc.strerror or exc}. Choose another --out folder.") from None
    finally:
        journal.close()
    for row in skipped:
        _say(f"Row {row}: its start, end or time zone cannot be read; no calendar file for it.")
    _say(f"{len(written) - 1} calendar files and {written[-1]} with every appointment.")
    return EXIT_OK if not skipped else EXIT_SOME_FAILED


def _template(path):
    from lib.notify.templates import DEFAULT, TemplateError, load_template

    if not path:
        return DEFAULT
    try:
        return load_template(path)
    except TemplateError as exc:
        raise UsageError(f"{exc} Nothing was sent.") from None


def _results(path):
    from lib.notify.run_results import ResultsError, read_results

    try:
        return read_results(path)
    except ResultsError as exc:
        raise UsageError(str(exc)) from None


def _write_results(results, labels) -> None:
    from lib.notify.run_results import ResultsError, write_results

    try:
        write_results(results, labels)
    except ResultsError as exc:
        raise UsageError(str(exc)) from None


def _rows(text: str | None) -> set[int]:
    if not text:
        return set()
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise UsageError(f"--again {text!r}: write spreadsheet row numbers separated by commas, e.g. --again 2,5") from None


def _picked(target, index: int, rows: set[int]) -> bool:
    """Whether --again names this client: their own row when rows and clients pair up, else any of the rows."""
    if len(target.rows) == len(target.appointment.clients):
        return target.rows[index] in rows
    return bool(rows & set(target.rows))


def _told_printer(profile, targets):
    """Progress of telling clients: a line every few seconds; on a real tenant, how long the sending limit makes it."""
    from lib.notify.notifier import MESSAGES_PER_MINUTE

    clients = sum(1 for t in targets for c in t.appointment.clients if c.email)
    if not profile.is_sandbox and clients > MESSAGES_PER_MINUTE:
        _say(f"Outlook sends about {MESSAGES_PER_MINUTE} messages a minute from one mailbox: {clients} emails take "
             f"about {clients / MESSAGES_PER_MINUTE:.0f} minutes.")
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 5:
            last[0] = now
            _say(f"{done}/{total} emails done")
    return show


def _show_code(flow_info) -> None:
    _say(flow_info.get("message") or f"Open {flow_info.get('verification_uri')} and enter {flow_info.get('user_code')}")


def _bookings_target(args, profile, client):
    """Where the bookings flow books: flags first, then the profile's ``bookings`` object, then the sandbox's business."""
    from lib.graph.bookings import BookingsChoiceError, choose_target, list_businesses
    from lib.graph.errors import GraphError

    wanted = profile.bookings or {}
    business = args.business or wanted.get("business", "")
    try:
        if not business:
            found = list_businesses(client) if profile.is_sandbox else []
            if not found:
                raise UsageError("Name the booking business: --business virtualcare@contoso.onmicrosoft.com (its "
                                 "mailbox, shown in Bookings → Business information), or put it in the profile's "
                                 "\"bookings\" object.")
            business = found[0]["id"]
        return choose_target(client, business, args.service or wanted.get("service", ""),
                             tuple(args.staff or wanted.get("staff") or ()))
    except BookingsChoiceError as exc:
        raise UsageError(str(exc)) from None
    except GraphError as exc:
        raise UsageError(f"{business or 'Bookings'}: {exc.explanation or exc} {exc.fix}".strip()) from None


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
            counts = f"{p.created} created, {p.updated} updated, {p.existing} existing, {p.failed} failed"
            notice = getattr(p, "notice", None)
            text = f"{p.done}/{p.total} done ({counts})" + (f" · {notice}" if notice else left)
            if self.tty:
                sys.stderr.write("\r" + text.ljust(79))
                self.printed = True
            elif p.total and not p.finished:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def say(self, message: str) -> None:
        """A line of its own (a skipped row, a warning) while the run goes on; the progress line comes back after."""
        with self.lock:
            if self.tty and self.printed:
                sys.stderr.write("\r" + " " * 79 + "\r")
                self.last = 0.0
            _say(message)

    def close(self) -> None:
        if self.tty and self.printed:
            sys.stderr.write("\n")


def _seconds(elapsed: float) -> str:
    """``0.52 s`` under ten seconds (a fast run is not "0.0s"), ``1 min 05 s`` past a minute."""
    if elapsed < 10:
        return f"{elapsed:.2f} s"
    if elapsed < 60:
        return f"{elapsed:.1f} s"
    return f"{int(elapsed // 60)} min {int(elapsed % 60):02d} s"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
