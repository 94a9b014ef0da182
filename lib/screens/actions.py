"""What can be done to an appointment after it was created: refresh links, update, delete, text clients.

Each action is a list of request specs (the same objects the flows use), so the app can preview it
and the Graph client sends it; ``apply`` writes what came back into the journal. Teams meetings and
Bookings appointments (``flow == "bookings"``: organizer = the booking mailbox, meeting id = the
bookingAppointment id) share the action names; ``plan_action`` picks each one's requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote

from lib.model import bookings
from lib.model.appointment import ModelError, format_graph_time
from lib.model.flows import BOOKINGS, VIRTUAL_APPOINTMENT, RequestSpec, organizer_path, reminder_sms_body, sms_body
from lib.bulk.journal import Entry, Journal, utc_text
from lib.graph.errors import GraphError
from lib.model.appointment import Client
from lib.notify import ics
from lib.notify.ledger import SENT, Ledger
from lib.notify.notifier import NOTIFIED, NoticeResult, Notifier, Target, calendar_entry
from lib.screens.appointments_view import clients_text, local_start

REFRESH = "refresh"
UPDATE = "update"
DELETE = "delete"
SMS_CONFIRMATION = "sms-confirmation"
SMS_REMINDER = "sms-reminder"
CANCEL = "cancel"          # Bookings only: cancel with a message the customer receives

GONE = "gone"              # journal status: Graph answered 404 to a refresh (deleted there, or a reset tenant)
CANCELLED = "cancelled"    # journal status: a Bookings appointment cancelled from here

ACTION_TITLES = {
    REFRESH: "Refresh join links",
    UPDATE: "Change subject or time",
    DELETE: "Delete the meeting",
    SMS_CONFIRMATION: "Text the join link (confirmation)",
    SMS_REMINDER: "Text a reminder (15 minutes before)",
}
BOOKING_TITLES = {
    REFRESH: "Refresh from Bookings",
    UPDATE: "Reschedule",
    CANCEL: "Cancel with a message",
    DELETE: "Delete the booking",
}
CANCEL_NOTE = ("Bookings emails the customer the cancellation with your message (unless the booking opted out "
               "of customer email).")
CANCEL_PERMISSION_FIX = ("Cancelling through an app-only connection needs the Microsoft Graph application "
                         "permission Bookings.ReadWrite.All: in the Entra admin center → App registrations → your "
                         "app → API permissions, add it and select \"Grant admin consent\", then try again. "
                         "Bookings.Read.All and BookingsAppointment.ReadWrite.All are not enough to cancel.")
SMS_CAVEAT = ("Text messages need a Teams Premium licence for the organizer and reach US phone numbers (+1) only; "
              "Microsoft sends them only with a delegated (signed-in) connection.")


@dataclass(frozen=True)
class Availability:
    """Whether an action can run for an appointment, and if not, why in plain words."""

    allowed: bool
    reason: str = ""


def is_booking(entry: Entry) -> bool:
    """A Microsoft Bookings appointment rather than a Teams meeting."""
    return entry.flow == BOOKINGS


def kind_label(entry: Entry) -> str:
    """What the appointment is, as the table's Kind column says it."""
    return "Bookings" if is_booking(entry) else "Teams meeting"


def title(entry: Entry, action: str) -> str:
    """The button's words for ``action`` on this kind of appointment."""
    return (BOOKING_TITLES if is_booking(entry) else ACTION_TITLES)[action]


def where(entry: Entry) -> str:
    """The service that holds the appointment: ``Teams`` or ``Bookings``."""
    return "Bookings" if is_booking(entry) else "Teams"


def user_path(entry: Entry) -> str:
    """``/me`` for appointments made while signed in, ``/users/{id}`` for app-only ones."""
    return organizer_path("client_credentials", entry.organizer)


def availability(entry: Entry, action: str, *, auth: str) -> Availability:
    """Can ``action`` run for ``entry`` over a connection using ``auth``?"""
    thing = "appointment" if is_booking(entry) else "meeting"
    if not entry.meeting_id:
        return Availability(False, f"The {thing} was never created; send the appointment again first.")
    if entry.status == "deleted":
        return Availability(False, f"The {thing} was deleted.")
    if entry.status == GONE and action != REFRESH:
        return Availability(False, f"{where(entry)} no longer holds this {thing}: send its row again to create it "
                                   "anew.")
    if is_booking(entry):
        if action not in BOOKING_TITLES:
            return Availability(False, "Bookings texts customers itself when the booking asks for it.")
        if entry.status == CANCELLED:  # Bookings drops a cancelled appointment: nothing is left to change
            return Availability(False, "The appointment was cancelled; Bookings no longer holds it.")
        return Availability(True)
    if action == CANCEL:
        return Availability(False, "Only Bookings appointments are cancelled with a message; delete the meeting.")
    if action in (SMS_CONFIRMATION, SMS_REMINDER):
        if auth != "device_code":
            return Availability(False, "Text messages need a signed-in (device code) connection, not app-only.")
        if not any(c.get("smsCapablePhoneNumber") for c in entry.clients):
            return Availability(False, "No client of this appointment has a phone number.")
    return Availability(True)


def plan_action(entry: Entry, action: str, *, subject: str | None = None, start: datetime | None = None,
                end: datetime | None = None, message: str = "") -> list[RequestSpec]:
    """The requests that carry out ``action`` on ``entry``'s meeting (or Bookings appointment)."""
    if is_booking(entry):
        return [_booking_spec(entry, action, start=start, message=message)]
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


def _booking_spec(entry: Entry, action: str, *, start: datetime | None, message: str) -> RequestSpec:
    """One request on a Bookings appointment, through the flow's own specs (lib.model.bookings)."""
    business, booking_id = entry.organizer, entry.meeting_id
    if action == REFRESH:
        return bookings.get_spec(business, booking_id)
    if action == UPDATE:
        appt = entry.appointment()
        if start is None or start == appt.start:
            raise ModelError("Reschedule", "nothing changed; pick a new date or start time first")
        # The service fixes the length: the appointment keeps its own, only moved.
        moved = replace(appt, start=start, end=start + (appt.end - appt.start))
        return bookings.update_spec(business, booking_id, moved)
    if action == CANCEL:
        if not message.strip():
            raise ModelError("Message", "write the message Bookings sends the customer with the cancellation")
        return bookings.cancel_spec(business, booking_id, message.strip())
    if action == DELETE:
        return bookings.delete_spec(business, booking_id)
    raise ValueError(f"{action!r} is not an action on a Bookings appointment")


def apply(journal: Journal, entry: Entry, action: str, steps: list[RequestSpec], bodies: list) -> str:
    """Record in the journal what the responses of ``steps`` say; returns a one-line summary."""
    if is_booking(entry):
        return _apply_booking(journal, entry, action, steps, bodies)
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
        if entry.status == GONE:  # Teams holds it again (a restored tenant): it is no longer gone
            fields.update(status="existing", error=None)
        if fields:
            journal.update(entry.key, **fields)
        return "Join links refreshed." if fields else "The meeting answered, but without join links."
    if action == UPDATE:
        _record_times(journal, entry, steps[0].body or {}, subject=(steps[0].body or {}).get("subject"))
        return "Meeting updated."
    if action == DELETE:
        journal.update(entry.key, status="deleted")
        return "Meeting deleted."
    if action in (SMS_CONFIRMATION, SMS_REMINDER):
        count = len((steps[0].body or {}).get("attendees", []))
        return f"Text message sent to {count} phone number{'s' if count != 1 else ''}."
    return "Done."


def _apply_booking(journal: Journal, entry: Entry, action: str, steps: list[RequestSpec], bodies: list) -> str:
    if action == REFRESH:
        body = bodies[0] if bodies and isinstance(bodies[0], dict) else {}
        join, client_link = bookings.links(body)
        fields = {k: v for k, v in (("join_web_url", join), ("client_join_web_url", client_link)) if v}
        if entry.status == GONE:
            fields.update(status="existing", error=None)
        if fields:
            journal.update(entry.key, **fields)
        return "Bookings still holds this appointment; links refreshed." if join else \
            "Bookings still holds this appointment (it gave no join link)."
    if action == UPDATE:
        _record_times(journal, entry, steps[0].body or {})
        return "Appointment rescheduled in Bookings (same length)."
    if action == CANCEL:
        journal.update(entry.key, status=CANCELLED)
        return f"Appointment cancelled in Bookings. {CANCEL_NOTE}"
    if action == DELETE:
        journal.update(entry.key, status="deleted")
        return "Appointment deleted from Bookings."
    return "Done."


def _record_times(journal: Journal, entry: Entry, patch: dict, subject: str | None = None) -> None:
    """The journal follows a PATCH of the subject or the times (meetings and Bookings write them differently)."""
    appt = entry.appointment()
    start = _parse(patch.get("startDateTime")) or appt.start
    end = _parse(patch.get("endDateTime")) or appt.end
    changed = replace(appt, subject=subject or appt.subject, start=start.astimezone(appt.start.tzinfo),
                      end=end.astimezone(appt.start.tzinfo))
    journal.update(entry.key, subject=changed.subject, start_utc=utc_text(changed.start), end_utc=utc_text(changed.end),
                   document=json.dumps(changed.to_document()))


def gone_text(entry: Entry) -> str:
    """What a 404 on a refresh means, in plain words."""
    if is_booking(entry):
        return ("No longer in Bookings: the appointment was deleted in Bookings or the business was reset. "
                "Sending its row again books it anew.")
    return ("No longer in Teams: the meeting was deleted in Teams or the tenant was reset. Sending its row again "
            "creates it anew (with new join links).")


def run(client, journal: Journal, entry: Entry, action: str, **options) -> str:
    """Send ``action``'s requests for ``entry``, log each one under the appointment, record the outcome.

    Returns what was done to whom, in one line; a failed request is logged, then its GraphError raised,
    except a 404 on a refresh: that is the answer (the service no longer holds it), journaled as ``gone``.
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
            if action == REFRESH and getattr(exc, "status", 0) == 404:
                journal.update(entry.key, status=GONE, error=gone_text(entry))
                return f"{gone_text(entry)} {done_to(entry)}"
            app_only = getattr(client, "auth_kind", "") == "app"
            if isinstance(exc, GraphError) and is_booking(entry) and action == CANCEL and exc.status == 403 and app_only:
                exc.explanation = ("Bookings refused to cancel this appointment: this connection lacks the "
                                   "permission to cancel. Nothing was cancelled and the customer was not told.")
                exc.fix = CANCEL_PERMISSION_FIX
            raise
        journal.log_request(run_id=None, key=entry.key, step=spec.step, method=spec.method, path=spec.path,
                            status=response.status, request_id=response.request_id or None)
        bodies.append(response.body)
    summary = apply(journal, entry, action, steps, bodies)
    return f"{summary} {done_to(journal.get(entry.key) or entry)}"


def done_to(entry: Entry) -> str:
    """Whom an action was for: ``For Maria Gonzalez, 2026-12-09 11:30 (America/New_York).``"""
    return f"For {clients_text(entry)}, {local_start(entry)} ({entry.time_zone})."


def _parse(text) -> datetime | None:
    if isinstance(text, dict):  # Bookings' dateTimeTimeZone
        return bookings.parse_date_time_zone(text)
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))



# -- the clients' emails follow the meeting (lib/notify) -------------------------------------------
def notice_target(entry: Entry, clients: list[Client] | None = None) -> Target:
    """The appointment as the notifier sees it, with only ``clients`` (all of them by default)."""
    appt = entry.appointment()
    if clients is not None:
        appt = replace(appt, clients=tuple(clients))
    return Target(entry.key, appt, entry.client_join_web_url or "", entry.organizer, tuple(entry.rows))


def told_clients(ledger: Ledger, entry: Entry) -> list[Client]:
    """The clients who were emailed about this appointment (and have not been sent its cancellation)."""
    told = []
    for client in entry.appointment().clients:
        known = ledger.get(entry.key, client.email) if client.email else None
        if known is not None and known.status == SENT and known.kind != "cancel":
            told.append(client)
    return told


def follow_change(mail_client, ledger: Ledger, before: Entry, after: Entry, action: str) -> str:
    """After a meeting was changed or deleted, the update (same UID, higher SEQUENCE) or the cancellation
    (METHOD:CANCEL) to the clients who were told about it, and only to them; returns what was sent to whom."""
    told = told_clients(ledger, before)
    if is_booking(before) or action not in (UPDATE, DELETE) or not told:
        return ""
    notifier = Notifier(mail_client, ledger)
    try:
        if action == DELETE:
            results = notifier.cancel([notice_target(before, told)])
            return notice_summary(results, "The cancellation")
        moved = (before.start_utc, before.end_utc) != (after.start_utc, after.end_utc)
        # A new subject at the same time is no change the notifier sees by itself: ask for it explicitly.
        again = set() if moved else {(after.key, c.email.lower()) for c in told}
        return notice_summary(notifier.notify([notice_target(after, told)], again=again), "The update")
    except GraphError as exc:
        return f"The clients were not told: {exc.explanation or exc} {exc.fix}".strip()


def send_again(mail_client, ledger: Ledger, entry: Entry, email: str) -> str:
    """The explicit "Send again to Maria": her email and invitation (a higher SEQUENCE), whatever was sent before."""
    clients = [c for c in entry.appointment().clients if c.email and c.email.lower() == email.lower()]
    if not clients:
        raise ModelError("Client", f"{email} is not a client of this appointment")
    again = {(entry.key, email.lower())}
    try:
        results = Notifier(mail_client, ledger).notify([notice_target(entry, clients[:1])], again=again)
    except GraphError as exc:
        return f"Not emailed: {exc.explanation or exc} {exc.fix}".strip()  # worrying() knows these words
    return notice_summary(results, "The invitation")


def notice_summary(results: list[NoticeResult], what: str) -> str:
    """``The update was emailed to Maria Gonzalez (maria@example.com).`` and any failure, in words."""
    sent = [r.client for r in results if r.status == NOTIFIED]
    failed = [r for r in results if r.status not in (NOTIFIED, "already sent")]
    parts = []
    if sent:
        parts.append(f"{what} was emailed to {', '.join(_person(c) for c in sent)}.")
    parts += [f"{what} was not emailed to {_person(r.client)}: {r.error or r.status}." for r in failed]
    return " ".join(parts) or f"{what} had already been emailed; nothing new was sent."


def notice_line(client: Client, known) -> str:
    """One client's email state: ``Ann · ann@example.com · update sent 2026-12-01 10:00 UTC``."""
    kinds = {"request": "invitation", "update": "update", "cancel": "cancellation"}
    said = "not emailed yet" if known is None else (
        f"{kinds.get(known.kind, known.kind)} {known.status} {known.updated_at.replace('T', ' ').replace('Z', ' UTC')}")
    return f"{client.display_name or client.email} · {client.email} · {said}"


def worrying(text: str) -> bool:
    """Whether a notification summary says that someone was not told."""
    return any(words in text.lower() for words in ("not emailed", "not told"))


def _person(client: Client) -> str:
    return f"{client.display_name} ({client.email})" if client.display_name else client.email


def ics_file(entry: Entry) -> tuple[str, bytes]:
    """(file name, bytes) of a calendar file for one appointment (METHOD:PUBLISH, for importing)."""
    target = notice_target(entry)
    attendees = tuple(ics.Person(c.display_name, c.email) for c in target.appointment.clients if c.email)
    event = replace(calendar_entry(target, attendees, None),
                    description=f"Clients: {clients_text(entry)}\nJoin: {target.join_link}" if target.join_link else "")
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in entry.external_appointment_id or "appointment")
    return f"{name}.ics", ics.calendar_bytes([event], ics.PUBLISH)
