"""The results table: one line per spreadsheet row, as RESULTS.csv, the app and exports show it."""

from __future__ import annotations

from lib.bulk.runner import Outcome

# The contract's columns first, then what helps a person read the file.
COLUMNS = ["row", "status", "externalAppointmentId", "onlineMeetingId", "joinWebUrl", "clientJoinWebUrl", "error",
           "clients", "subject", "start", "end", "timeZone", "requestId"]


def result_rows(outcomes: list[Outcome], invalid: list[tuple[int, str]] = ()) -> list[dict]:
    """Rows sorted by spreadsheet row; a grouped appointment repeats on each of its rows."""
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
        for row in appt.source_rows or (0,):
            rows.append({"row": row, **line})
    for row, message in invalid:
        rows.append({"row": row, "status": "invalid", "error": message})
    rows.sort(key=lambda r: r["row"])
    return [{column: r.get(column, "") for column in COLUMNS} for r in rows]
