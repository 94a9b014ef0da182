"""The results table: one line per spreadsheet row, as RESULTS.csv, the app and exports show it.

Two shapes: ``result_rows`` (RESULTS.csv: the contract's columns, then plain headings a person
reads) and ``mail_merge_rows`` (the app's exports: one row per client, plain headings only, the
technical ids in a sheet of their own).
"""

from __future__ import annotations

import queue
import threading
from zoneinfo import ZoneInfo

from lib.bulk.export import csv_line
from lib.bulk.runner import Outcome
from lib.spreadsheet.check import join_messages
from lib.model.appointment import Appointment, Client

# What a mail merge needs, in words; the app's exports and the end of RESULTS.csv.
MAIL_MERGE_COLUMNS = ["Client", "Client email", "Client phone", "Date", "Start", "End", "Time zone",
                      "Client join link", "Organizer join link", "Status", "Problem", "Row", "Subject",
                      "Appointment id"]
LINK_COLUMNS = ("Client join link", "Organizer join link")
# One row per appointment: the ids a developer or support needs, once each.
TECHNICAL_COLUMNS = ["Row", "Status", "externalAppointmentId", "externalId", "onlineMeetingId", "joinWebUrl",
                     "clientJoinWebUrl", "requestId", "Problem"]

# The contract's columns first, then what helps a person read the file.
COLUMNS = ["row", "status", "externalAppointmentId", "onlineMeetingId", "joinWebUrl", "clientJoinWebUrl", "error",
           "clients", "subject", "start", "end", "timeZone", "requestId",
           *[c for c in MAIL_MERGE_COLUMNS if c not in ("Row", "Status", "Problem", "Subject", "Appointment id")]]


def result_rows(outcomes: list[Outcome], invalid: list[tuple[int, str]] = ()) -> list[dict]:
    """Rows sorted by spreadsheet row; a grouped appointment repeats on each of its rows, each with its client."""
    rows = [row for outcome in outcomes for row in outcome_rows(outcome)]
    rows.extend(_invalid_row(row, message) for row, message in invalid)
    rows.sort(key=lambda r: r["row"])
    return rows


def _invalid_row(row: int, message: str) -> dict:
    return {column: {"row": row, "status": "invalid", "error": message}.get(column, "") for column in COLUMNS}


def outcome_rows(outcome: Outcome) -> list[dict]:
    """The RESULTS.csv rows (COLUMNS) of one appointment: one per spreadsheet row it came from."""
    appt = outcome.appointment
    line = {
        "status": outcome.status,
        "externalAppointmentId": appt.appointment_id,
        "onlineMeetingId": outcome.meeting_id,
        "joinWebUrl": outcome.join_web_url,
        "clientJoinWebUrl": outcome.client_join_web_url,
        "error": outcome.error,
        "clients": appt.clients_label,
        "subject": appt.subject,
        "start": appt.start.isoformat(timespec="minutes"),
        "end": appt.end.isoformat(timespec="minutes"),
        "timeZone": appt.time_zone,
        "requestId": outcome.request_id,
    }
    rows = []
    for row, clients in row_clients(appt):
        whole = {"row": row, **line, **_plain(outcome, clients)}
        rows.append({column: whole.get(column, "") for column in COLUMNS})
    return rows


class ResultsFile:
    """RESULTS.csv rendered while the run goes: an appointment's lines as soon as Graph has settled it, on a
    thread of its own (the senders mostly wait on the network), so the file at the end is a join of lines.

    ``add`` takes a settled outcome (the runner's ``on_outcome``); ``to_bytes`` renders whatever changed
    since (a cancelled row, say) and returns exactly what ``to_csv_bytes(columns, result_rows(...))`` would.
    """

    def __init__(self, columns: list[str]):
        self.columns = columns
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lines: dict[int, tuple[tuple, list[tuple[int, str]]]] = {}
        self._thread = threading.Thread(target=self._render_all, name="results", daemon=True)
        self._thread.start()

    def add(self, outcome: Outcome) -> None:
        self._queue.put(outcome)

    def to_bytes(self, outcomes: list[Outcome], invalid: list[tuple[int, str]] = ()) -> bytes:
        self._queue.put(None)
        self._thread.join()
        lines = []
        for outcome in outcomes:
            done = self._lines.get(id(outcome))
            lines.extend(done[1] if done is not None and done[0] == _state(outcome) else self._render(outcome))
        lines.extend((row, csv_line([_invalid_row(row, message).get(c, "") for c in self.columns])) for row, message in invalid)
        lines.sort(key=lambda line: line[0])
        return ("\ufeff" + csv_line(self.columns) + "".join(text for _, text in lines)).encode("utf-8")

    def _render_all(self) -> None:
        while (outcome := self._queue.get()) is not None:
            self._lines[id(outcome)] = (_state(outcome), self._render(outcome))

    def _render(self, outcome: Outcome) -> list[tuple[int, str]]:
        return [(r["row"], csv_line([r.get(c, "") for c in self.columns])) for r in outcome_rows(outcome)]


def _state(outcome: Outcome) -> tuple:
    return (outcome.status, outcome.meeting_id, outcome.join_web_url, outcome.client_join_web_url, outcome.error,
            outcome.request_id)


def mail_merge_rows(outcomes: list[Outcome], invalid: list[tuple[int, str]] = ()) -> list[dict]:
    """One row per client (a group appointment gives each client a row), in MAIL_MERGE_COLUMNS."""
    rows = []
    for outcome in outcomes:
        for row, clients in row_clients(outcome.appointment):
            for client in clients or (None,):
                rows.append({"Row": row, "Status": outcome.status, "Problem": outcome.error or "",
                             "Subject": outcome.appointment.subject,
                             "Appointment id": outcome.appointment.appointment_id,
                             **_plain(outcome, (client,) if client else ())})
    for row, message in invalid:
        rows.append({"Row": row, "Status": "invalid", "Problem": message})
    rows.sort(key=lambda r: r["Row"])
    return [{column: r.get(column, "") for column in MAIL_MERGE_COLUMNS} for r in rows]


def technical_rows(outcomes: list[Outcome]) -> list[dict]:
    """One row per appointment with Graph's ids and the last request-id, in TECHNICAL_COLUMNS."""
    rows = [{"Row": ", ".join(str(r) for r in o.appointment.source_rows), "Status": o.status,
             "externalAppointmentId": o.appointment.appointment_id, "externalId": o.appointment.meeting_external_id,
             "onlineMeetingId": o.meeting_id, "joinWebUrl": o.join_web_url, "clientJoinWebUrl": o.client_join_web_url,
             "requestId": o.request_id, "Problem": o.error or ""} for o in outcomes]
    return rows


def row_clients(appt: Appointment) -> list[tuple[int, tuple[Client, ...]]]:
    """Each spreadsheet row of an appointment with its own client; rows that cannot be told apart get them all."""
    source = appt.source_rows or (0,)
    if len(source) == len(appt.clients) and len(source) > 1:
        return [(row, (client,)) for row, client in zip(source, appt.clients)]
    return [(row, appt.clients) for row in source]


def _plain(outcome: Outcome, clients: tuple[Client, ...]) -> dict:
    """The plain-heading cells for ``clients`` of ``outcome``: names, contacts, times in the appointment's zone."""
    appt = outcome.appointment
    zone = ZoneInfo(appt.time_zone)
    start, end = appt.start.astimezone(zone), appt.end.astimezone(zone)
    return {
        "Client": "; ".join(c.label for c in clients),
        "Client email": "; ".join(c.email for c in clients if c.email),
        "Client phone": "; ".join(c.phone for c in clients if c.phone),
        "Date": f"{start:%Y-%m-%d}", "Start": f"{start:%H:%M}", "End": f"{end:%H:%M}", "Time zone": appt.time_zone,
        "Client join link": outcome.client_join_web_url or "", "Organizer join link": outcome.join_web_url or "",
    }


def invalid_rows(report) -> list[tuple[int, str]]:
    """(Excel row, the problems in words) for every row of a check report that cannot be sent."""
    return [(r.row, join_messages(r.errors)) for r in report.rows if r.status == "error"]
