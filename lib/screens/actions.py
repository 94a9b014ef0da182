"""What can be done to an appointment after it was created: refresh links, update, delete, text clients.

Each action is a list of request specs (the same objects the flows use), so the app can preview it
and the Graph client sends it; ``apply`` writes what came back into the journal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote

from lib.model.appointment import ModelError, format_graph_time
from lib.model.flows import VIRTUAL_APPOINTMENT, RequestSpec, organizer_path, reminder_sms_body, sms_body
from lib.bulk.journal import Entry, Journal, utc_text
from lib.screens.appointments_view import clients_text, local_start

REFRESH = "refresh"
UPDATE = "update"
DELETE = "delete"
SMS_CONFIRMATION = "sms-confirmation"
SMS_REMINDER = "sms-reminder"

ACTION_TITLES = {
    REFRESH: "Refresh join links",
    UPDATE: "Change subject or time",
    DELETE: "Delete the meeting",
    SMS_CONFIRMATION: "Text the join link (confirmation)",
    SMS_REMINDER: "Text a reminder (15 minutes before)",
}
SMS_CAVEAT = ("Text messages need a Teams Premium licence for the organizer and reach US phone numbers (+1) only; "
              "Microsoft sends them only with a delegated (signed-in) connection.")


@dataclass(frozen=True)
class Availability:
    """Whether an action can run for an appointment, and if not, why in plain words."""

    allowed: bool
    reason: str = ""


def user_path(entry: Entry) -> str:
    """``/me`` for appointments made while signed in, ``/users/{id}`` for app-only ones."""
    return organizer_path("client_credentials", entry.organizer)


def availability(entry: Entry, action: str, *, auth: str) -> Availability:
    """Can ``action`` run for ``entry`` over a connection using ``auth``?"""
    if not entry.meeting_id:
        return Availability(False, "The meeting was never created; send the appointment again first.")
    if entry.status == "deleted":
        return Availability(False, "The meeting was deleted.")
    if action in (SMS_CONFIRMATION, SMS_REMINDER):
        if auth != "device_code":
            return Availability(False, "Text messages need a signed-in (device code) connection, not app-only.")
        if not any(c.get("smsCapablePhoneNumber") for c in entry.clients):
            return Availability(False, "No client of this appointment has a phone number.")
    return Availability(True)


def plan_action(entry: Entry, action: str, *, subject: str | None = None, start: datetime | None = None,
                end: datetime | None = None) -> list[RequestSpec]:
    """The requests that carry out ``action`` on ``entry``'s meeting."""
    # Meeting ids are opaque and may hold characters that must be percent-encoded in a path.
    meetings = f"{user_path(entry)}/onlineMeetings/{quote(entry.meeting_id, safe='')}"
    if action == REFRESH:
        steps = [RequestSpec("meeting", "GET", "v1.0", meetings, title="Read the meeting (organizer's join link)")]
        if entry.flow == VIRTUAL_APPOINTMENT:
            steps.append(RequestSpec("virtualAppointment", "GET", "beta", f"{meetings}/virtualAppointment",
                                     title="Read the virtual appointment (clients' join link)"))
        else:
            steps.append(RequestSpec("joinLink", "GET", "v1.0", f"{meetings}/getVirtualAppointmentJoinWebUrl",
                                     title="Get the clients' join link"))
        return steps
    if action == UPDATE:
        appt = entry.appointment()
        body = {}
        if subject is not None and subject.strip() and subject.strip() != appt.subject:
            body["subject"] = subject.strip()
        new_start, new_end = start or appt.start, end or appt.end
        if new_end <= new_start:
            raise ModelError("End", "must be after the start")
        if (new_start, new_end) != (appt.start, appt.end):
            body["startDateTime"] = format_graph_time(new_start, appt.time_zone)
            body["endDateTime"] = format_graph_time(new_end, appt.time_zone)
        if not body:
            raise ModelError("Update", "nothing changed; edit the subject or the time first")
        return [RequestSpec("update", "PATCH", "v1.0", meetings, body, title="Change the meeting")]
    if action == DELETE:
        return [RequestSpec("delete", "DELETE", "v1.0", meetings, title="Delete the meeting")]
    if action == SMS_CONFIRMATION:
        return [RequestSpec("sms", "POST", "v1.0", f"{meetings}/sendVirtualAppointmentSms",
                            sms_body(entry.appointment(), "confirmation"), title="Text the join link",
                            idempotent=False)]
    if action == SMS_REMINDER:
        return [RequestSpec("smsReminder", "POST", "v1.0", f"{meetings}/sendVirtualAppointmentReminderSms",
                            reminder_sms_body(entry.appointment()), title="Text a reminder", idempotent=False)]
    raise ValueError(f"unknown action {action!r}")


def apply(journal: Journal, entry: Entry, action: str, steps: list[RequestSpec], bodies: list) -> str:
    """Record in the journal what the responses of ``steps`` say; returns a one-line summary."""
    if action == REFRESH:
        fields = {}
        for spec, body in zip(steps, bodies):
            body = body if isinstance(body, dict) else {}
            if spec.step == "meeting" and body.get("joinWebUrl"):
                fields["join_web_url"] = body["joinWebUrl"]
            elif spec.step == "virtualAppointment" and body.get("appointmentClientJoinWebUrl"):
                fields["client_join_web_url"] = body["appointmentClientJoinWebUrl"]
            elif spec.step == "joinLink" and body.get("value"):
                fields["client_join_web_url"] = body["value"]
        if fields:
            journal.update(entry.key, **fields)
        return "Join links refreshed." if fields else "The meeting answered, but without join links."
    if action == UPDATE:
        appt = entry.appointment()
        patch = steps[0].body or {}
        start = _parse(patch.get("startDateTime")) or appt.start
        end = _parse(patch.get("endDateTime")) or appt.end
        changed = replace(appt, subject=patch.get("subject", appt.subject), start=start, end=end)
        journal.update(entry.key, subject=changed.subject, start_utc=utc_text(changed.start), end_utc=utc_text(changed.end),
                       document=json.dumps(changed.to_document()))
        return "Meeting updated."
    if action == DELETE:
        journal.update(entry.key, status="deleted")
        return "Meeting deleted."
    if action in (SMS_CONFIRMATION, SMS_REMINDER):
        count = len((steps[0].body or {}).get("attendees", []))
        return f"Text message sent to {count} phone number{'s' if count != 1 else ''}."
    return "Done."


def run(client, journal: Journal, entry: Entry, action: str, **options) -> str:
    """Send ``action``'s requests for ``entry``, log each one under the appointment, record the outcome.

    Returns what was done to whom, in one line; a failed request is logged, then its GraphError raised.
    """
    steps = plan_action(entry, action, **options)
    bodies = []
    for spec in steps:
        try:
            response = client.send(spec)
        except Exception as exc:
            journal.log_request(run_id=None, key=entry.key, step=spec.step, method=spec.method, path=spec.path,
                                status=getattr(exc, "status", 0) or None,
                                request_id=getattr(exc, "request_id", "") or None, error=str(exc))
            raise
        journal.log_request(run_id=None, key=entry.key, step=spec.step, method=spec.method, path=spec.path,
                            status=response.status, request_id=response.request_id or None)
        bodies.append(response.body)
    summary = apply(journal, entry, action, steps, bodies)
    return f"{summary} {done_to(journal.get(entry.key) or entry)}"


def done_to(entry: Entry) -> str:
    """Whom an action was for: ``For Maria Gonzalez, 2026-12-09 11:30 (America/New_York).``"""
    return f"For {clients_text(entry)}, {local_start(entry)} ({entry.time_zone})."


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

