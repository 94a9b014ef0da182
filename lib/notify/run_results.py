"""A finished run's RESULTS.csv, joined with the journal: the appointments to notify or export as `.ics`.

RESULTS.csv holds the links and times; the clients' email addresses live in the journal (on this
computer), found by the meeting id each row reports.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from lib.bulk.export import to_csv_bytes
from lib.bulk.journal import Entry, Journal
from lib.model.appointment import Appointment, Client, ModelError, check_time_zone
from lib.notify.notifier import NoticeResult, Target

CONFIRMED = ("created", "existing", "updated")
NOTIFIED_COLUMN = "notified"


class ResultsError(ValueError):
    """A RESULTS.csv that cannot be used; the message says which file and what to do."""


@dataclass
class ResultsFile:
    path: Path
    columns: list[str]
    rows: list[dict[str, str]]

    def confirmed(self) -> list[dict[str, str]]:
        """Rows whose appointment Graph confirmed in that run (created, existing, updated)."""
        return [r for r in self.rows if r.get("status") in CONFIRMED and r.get("onlineMeetingId")]


def read_results(path: str | Path) -> ResultsFile:
    """RESULTS.csv as written by `send` (UTF-8 with BOM), with at least row, status and onlineMeetingId."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ResultsError(f"{path}: cannot be read ({exc.strerror or exc}). Check the path.") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path.name}: not a UTF-8 CSV. Use the RESULTS.csv that send wrote.") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = list(reader.fieldnames or [])
    missing = [c for c in ("row", "status", "onlineMeetingId") if c not in columns]
    if missing:
        raise ResultsError(f"{path.name}: no {', '.join(missing)} column. Use the RESULTS.csv that send wrote.")
    return ResultsFile(path, columns, [dict(r) for r in reader])


def write_results(results: ResultsFile, notified: dict[int, str]) -> None:
    """Write the file back with its `notified` column filled for the rows given (others keep theirs)."""
    columns = results.columns + ([NOTIFIED_COLUMN] if NOTIFIED_COLUMN not in results.columns else [])
    lines = []
    for row in results.rows:
        number = _int(row.get("row"))
        value = notified.get(number, row.get(NOTIFIED_COLUMN) or "")
        lines.append([_unquote(row.get(c, "")) if c != NOTIFIED_COLUMN else value for c in columns])
    try:
        results.path.write_bytes(to_csv_bytes(columns, lines))
    except OSError as exc:
        raise ResultsError(f"cannot write {results.path}: {exc.strerror or exc}. Is it open in Excel?") from None


def targets(results: ResultsFile, journal: Journal, profile_key: str | None) -> tuple[list[Target], list[tuple[dict, str]]]:
    """(appointments to notify, [(row, why not)] for confirmed rows this computer's journal cannot pair up)."""
    entries: dict[str, Entry] = {}
    elsewhere: set[str] = set()
    for entry in journal.entries():
        if not entry.meeting_id:
            continue
        if profile_key is None or entry.profile_key == profile_key:
            entries.setdefault(entry.meeting_id, entry)
        else:
            elsewhere.add(entry.meeting_id)
    found: dict[str, Target] = {}
    unknown = []
    for row in results.confirmed():
        entry = entries.get(row["onlineMeetingId"])
        if entry is None:
            why = ("it was created with another connection; notify with the connection that sent it"
                   if row["onlineMeetingId"] in elsewhere else
                   "this computer's journal does not know this appointment; run notify where send ran")
            unknown.append((row, why))
            continue
        if entry.key not in found:
            rows = tuple(sorted({_int(r) for r in entry.rows} | {_int(row["row"])}))
            found[entry.key] = Target(entry.key, entry.appointment(), row.get("clientJoinWebUrl") or
                                      entry.client_join_web_url or "", entry.organizer, rows)
    return list(found.values()), unknown


def target_from_row(row: dict[str, str]) -> Target | None:
    """An appointment from RESULTS.csv alone (no client addresses): enough for a calendar file."""
    try:
        check_time_zone(row.get("timeZone") or "UTC")
        start = datetime.fromisoformat(row["start"])
        end = datetime.fromisoformat(row["end"])
        appointment = Appointment(subject=row.get("subject") or "Virtual appointment", start=start, end=end,
                                  time_zone=row.get("timeZone") or "UTC",
                                  external_appointment_id=row.get("externalAppointmentId") or "")
    except (KeyError, ValueError, TypeError, ModelError):
        return None
    key = row.get("onlineMeetingId") or row.get("externalAppointmentId") or row["row"]
    return Target(key, appointment, row.get("clientJoinWebUrl") or "", "", (_int(row["row"]),))


def row_labels(results: list[NoticeResult]) -> dict[int, str]:
    """The `notified` value of each spreadsheet row: its own client's outcome when rows and clients pair up."""
    by_target: dict[str, list[NoticeResult]] = {}
    for result in results:
        by_target.setdefault(result.target.appointment_key, []).append(result)
    labels: dict[int, str] = {}
    for outcomes in by_target.values():
        target = outcomes[0].target
        if len(target.rows) == len(outcomes):
            for row, outcome in zip(target.rows, outcomes):
                labels[row] = outcome.label
        else:
            combined = "; ".join(f"{_name(o.client)}: {o.label}" for o in outcomes) if len(outcomes) > 1 \
                else outcomes[0].label
            for row in target.rows:
                labels[row] = combined
    return labels


def _name(client: Client) -> str:
    return client.display_name or client.email or "client"


def _unquote(value: str) -> str:
    # to_csv_bytes adds the apostrophe that stops Excel running formulas; do not add a second one.
    return value[1:] if value.startswith("'") and value[1:2] in ("=", "+", "-", "@", "\t", "\r") else value


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def calendar_targets(results: ResultsFile, journal: Journal) -> list[tuple[int, Target]]:
    """(row, appointment) for each confirmed row: from the journal when it knows the meeting, else from the row."""
    known, _ = targets(results, journal, None)
    by_row: dict[int, Target] = {}
    for target in known:
        for row in target.rows:
            by_row[row] = target
    out = []
    for row in results.confirmed():
        number = _int(row["row"])
        target = by_row.get(number) or target_from_row(row)
        if target is not None:
            out.append((number, target))
    return out


def write_calendar_files(results: ResultsFile, journal: Journal, out_dir: str | Path) -> tuple[list[Path], list[int]]:
    """`DIR/<row>.ics` per confirmed row and `DIR/appointments.ics` with every appointment (METHOD:PUBLISH,
    for importing into Outlook or Google Calendar); returns (files written, rows that could not be read)."""
    from lib.notify import ics
    from lib.notify.notifier import calendar_entry

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pairs = calendar_targets(results, journal)
    readable = {n for n, _ in pairs}
    skipped = [_int(r["row"]) for r in results.confirmed() if _int(r["row"]) not in readable]
    written, entries = [], {}
    for number, target in pairs:
        entry = calendar_entry(target, (), None)
        if target.appointment.clients:
            entry = replace(entry, description=f"Clients: {target.appointment.clients_label}\n"
                                               f"Join: {target.join_link}")
        path = out / f"{number}.ics"
        path.write_bytes(ics.calendar_bytes([entry], ics.PUBLISH))
        written.append(path)
        entries.setdefault(entry.uid, entry)
    everything = out / "appointments.ics"
    everything.write_bytes(ics.calendar_bytes(list(entries.values()), ics.PUBLISH))
    written.append(everything)
    return written, skipped
