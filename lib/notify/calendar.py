"""The organizer's calendar: one event per appointment, created with a `transactionId` (a repeat returns
the same event) and `isOnlineMeeting: false` (the Teams meeting exists already; never make a second)."""
from __future__ import annotations

import hashlib
import html

from lib.graph.client import GraphClient, GraphError, GraphResponse
from lib.model.flows import RequestSpec
from lib.notify.access import check_can_notify
from lib.notify.notifier import PER_MAILBOX, Target
from lib.notify.templates import is_join_link, one_line


def transaction_id(target: Target) -> str:
    """Stable per appointment and time, so re-running never adds a second event."""
    appt = target.appointment
    key = f"{target.appointment_key}|{appt.start.isoformat()}|{appt.end.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def event_body(target: Target) -> dict:
    """POST events body: times in the appointment's zone, the clients' link in body and location."""
    appt = target.appointment
    link = target.join_link
    shown = html.escape(link, quote=True)
    anchor = f'<a href="{shown}">{shown}</a>' if is_join_link(link) else shown
    clients = html.escape(appt.clients_label)
    return {
        "subject": one_line(appt.subject),
        "body": {"contentType": "HTML", "content": f"<p>Clients: {clients}</p><p>Clients join with: {anchor}</p>"},
        "start": {"dateTime": appt.start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": appt.time_zone},
        "end": {"dateTime": appt.end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": appt.time_zone},
        "location": {"displayName": link},
        "isOnlineMeeting": False,
        "transactionId": transaction_id(target),
    }


def put_on_calendar(client: GraphClient, targets: list[Target]) -> dict[str, str]:
    """Appointment key → "" when on the calendar, else the error."""
    check_can_notify(client, calendar=True)
    mailbox = client.user_path()
    outcome: dict[str, str] = {}
    for start in range(0, len(targets), PER_MAILBOX):
        chunk = targets[start:start + PER_MAILBOX]
        items = [(t.appointment_key, RequestSpec("calendarEvent", "POST", "v1.0", f"{mailbox}/events", event_body(t),
                                                 title="Put the appointment on the organizer's calendar"))
                 for t in chunk]
        for key, reply in client.batch("v1.0", items).items():
            if isinstance(reply, GraphResponse):
                outcome[key] = ""
            else:
                error = reply if isinstance(reply, GraphError) else GraphError(0, "Error", str(reply))
                outcome[key] = f"{error.message or error.explanation} ({error.code})"
    return outcome
