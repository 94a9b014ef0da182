"""The two Graph flows as plain data: the list of requests an appointment needs.

The designer previews exactly these objects and the runner sends exactly these objects, so the
preview can never drift from what goes over the wire. A later step refers to the meeting created by
the first one through the ``{onlineMeetingId}`` placeholder, filled in once the id is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from lib.model.appointment import Appointment
from lib.model.timezones import windows_zone_for

VIRTUAL_APPOINTMENT = "virtual-appointment"
JOIN_LINK = "join-link"
BOOKINGS = "bookings"
FLOWS = (VIRTUAL_APPOINTMENT, JOIN_LINK)  # the Teams meeting flows
ALL_FLOWS = FLOWS + (BOOKINGS,)
FLOW_TITLES = {
    VIRTUAL_APPOINTMENT: "Virtual appointment (beta: meeting + virtualAppointment)",
    JOIN_LINK: "Join link (v1.0: meeting + getVirtualAppointmentJoinWebUrl)",
    BOOKINGS: "Microsoft Bookings (v1.0: a booking appointment; Microsoft emails the customer)",
}

MEETING_ID = "{onlineMeetingId}"
SIGNED_IN = "me"  # the organizer id the journal keeps for meetings made by the signed-in person

# Step names, used as keys in results and the journal.
STEP_MEETING = "meeting"
STEP_VIRTUAL_APPOINTMENT = "virtualAppointment"
STEP_JOIN_LINK = "joinLink"
STEP_SMS = "sms"
STEP_MEETING_UPDATE = "meetingUpdate"


@dataclass(frozen=True)
class RequestSpec:
    """One HTTP request of a flow, relative to a Graph version root."""

    step: str
    method: str
    version: str  # "v1.0" or "beta"
    path: str  # e.g. "/me/onlineMeetings/createOrGet"; may hold MEETING_ID
    body: dict | None = None
    title: str = ""
    # Safe to send again after an unknown outcome (createOrGet, PUT, GET); SMS is not.
    idempotent: bool = True

    @property
    def needs_meeting_id(self) -> bool:
        return MEETING_ID in self.path

    def with_meeting_id(self, meeting_id: str) -> "RequestSpec":
        """The same request aimed at a known meeting (ids are opaque: percent-encode them)."""
        # built directly: dataclasses.replace costs several times as much, once per appointment and step
        return RequestSpec(self.step, self.method, self.version, self.path.replace(MEETING_ID, quote(meeting_id, safe="")),
                           self.body, self.title, self.idempotent)

    def url(self, graph_base_url: str) -> str:
        """The absolute URL on a Graph host."""
        return f"{graph_base_url.rstrip('/')}/{self.version}{self.path}"

    def headers(self) -> dict:
        """Headers besides Authorization and client-request-id."""
        return {"Content-Type": "application/json"} if self.body is not None else {}


@dataclass(frozen=True)
class SmsOptions:
    """Optional SMS confirmation after the join link (Teams Premium, US numbers only)."""

    message_type: str = "confirmation"  # confirmation | reschedule | cancellation


def organizer_path(auth: str, organizer_id: str = "") -> str:
    """The one place that decides ``/me`` or ``/users/{id}``: ``/me`` for delegated sign-in (and for the
    journal's organizer ``me``), ``/users/{object id}`` for app-only."""
    if auth == "device_code" or organizer_id in ("", SIGNED_IN):
        return "/me"
    return "/users/" + quote(organizer_id, safe="")


def plan(appointment: Appointment, flow: str, *, user_path: str = "/me",
         sms: SmsOptions | None = None) -> list[RequestSpec]:
    """The requests that create ``appointment`` with ``flow``, in order."""
    if flow not in FLOWS:
        raise ValueError(f"unknown flow {flow!r}; choose one of {', '.join(FLOWS)}")
    meetings = f"{user_path}/onlineMeetings"
    steps = [RequestSpec(
        STEP_MEETING, "POST", "v1.0", f"{meetings}/createOrGet", appointment.meeting_body(),
        title="Create the Teams meeting, or get it if it already exists (keyed on externalId)",
    )]
    if flow == VIRTUAL_APPOINTMENT:
        steps.append(RequestSpec(
            STEP_VIRTUAL_APPOINTMENT, "PUT", "beta", f"{meetings}/{MEETING_ID}/virtualAppointment",
            appointment.virtual_appointment_body(),
            title="Attach the virtual appointment: clients, settings, external id (beta)",
        ))
    else:
        steps.append(RequestSpec(
            STEP_JOIN_LINK, "GET", "v1.0", f"{meetings}/{MEETING_ID}/getVirtualAppointmentJoinWebUrl",
            title="Get the link clients use to join (in a browser, no Teams account needed)",
        ))
        if sms is not None:
            body = sms_body(appointment, sms.message_type)
            if body["attendees"]:
                steps.append(RequestSpec(
                    STEP_SMS, "POST", "v1.0", f"{meetings}/{MEETING_ID}/sendVirtualAppointmentSms", body,
                    title="Text the join link to the clients (Teams Premium, US numbers)", idempotent=False,
                ))
    return steps


def update_meeting(appointment: Appointment, user_path: str = "/me") -> RequestSpec:
    """PATCH an existing meeting to the appointment's subject and times (createOrGet returns it unchanged)."""
    body = appointment.meeting_body(include_external_id=False)
    return RequestSpec(
        STEP_MEETING_UPDATE, "PATCH", "v1.0", f"{user_path}/onlineMeetings/{MEETING_ID}", body,
        title="Bring the existing meeting up to date: subject and times",
    )


def sms_body(appointment: Appointment, message_type: str = "confirmation") -> dict:
    """The sendVirtualAppointmentSms body: one attendee per client with a phone number."""
    zone = windows_zone_for(appointment.time_zone)
    attendees = [{"phoneNumber": c.phone, "timeZone": zone} for c in appointment.clients if c.phone]
    return {"attendees": attendees, "messageType": message_type}


def reminder_sms_body(appointment: Appointment) -> dict:
    """The sendVirtualAppointmentReminderSms body (Graph only offers 15 minutes before)."""
    zone = windows_zone_for(appointment.time_zone)
    attendees = [{"phoneNumber": c.phone, "timeZone": zone} for c in appointment.clients if c.phone]
    return {"attendees": attendees, "remindBeforeTimeInMinutesType": "mins15"}
