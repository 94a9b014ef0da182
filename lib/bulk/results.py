"""The results table: one line per spreadsheet row, as RESULTS.csv, the app and exports show it.

Two shapes: ``result_rows`` (RESULTS.csv: the contract's columns, then plain headings a person
reads) and ``mail_merge_rows`` (the app's exports: one row per client, plain headings only, the
technical ids in a sheet of their own).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

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
    rows = []
    for outcome in outcomes:
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
        for row, clients in row_clients(appt):
            rows.append({"row": row, **line, **_plain(outcome, clients)})
    for row, message in invalid:
        rows.append({"row": row, "status": "invalid", "error": message})
    rows.sort(key=lambda r: r["row"])
    return [{column: r.get(column, "") for column in COLUMNS} for r in rows]


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
