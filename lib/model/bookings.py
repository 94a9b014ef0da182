"""The Microsoft Bookings flow as plain data: the requests that book, confirm, find and change an appointment.

Bookings has no idempotency key (a create can even fail after booking the slot), so the flow is one
POST that is never repeated blindly: after an unknown outcome the runner looks the slot up with
``calendarView`` and matches it with :func:`find_booking` before creating again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

from lib.model.appointment import Appointment
from lib.model.flows import BOOKINGS, RequestSpec  # noqa: F401 (BOOKINGS: the flow's name, re-exported)

STEP_BOOKING = "booking"
CUSTOMER_TYPE = "#microsoft.graph.bookingCustomerInformation"


@dataclass(frozen=True)
class BookingsTarget:
    """Where to book: the booking mailbox, the service (with what Graph says of it) and optional staff."""

    business: str                      # the booking mailbox's SMTP address
    service_id: str
    service_name: str = ""
    duration_minutes: int | None = None
    anonymous_join: bool = False
    staff_ids: tuple[str, ...] = ()
    opt_out_of_customer_email: bool = False
    sms_notifications: bool = False


def business_path(business: str) -> str:
    """``/solutions/bookingBusinesses/{mailbox}`` (the mailbox is percent-encoded, ``@`` kept)."""
    return "/solutions/bookingBusinesses/" + quote(business, safe="@")


def date_time_zone(moment: datetime) -> dict:
    """A dateTimeTimeZone in UTC, as the reference's examples send it."""
    utc = moment.astimezone(timezone.utc)
    return {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00"), "timeZone": "UTC"}


def booking_body(appointment: Appointment, target: BookingsTarget) -> dict:
    """The bookingAppointment body for POST .../appointments."""
    body = {
        "serviceId": target.service_id,
        "startDateTime": date_time_zone(appointment.start),
        "endDateTime": date_time_zone(appointment.end),
        "customerTimeZone": appointment.time_zone,
        "isLocationOnline": True,
        "optOutOfCustomerEmail": bool(target.opt_out_of_customer_email),
        "smsNotificationsEnabled": bool(target.sms_notifications),
        "customers": [_customer(c, appointment.time_zone) for c in appointment.clients],
        # The subject has no field of its own in Bookings; it reaches the confirmation email here.
        "additionalInformation": appointment.subject,
    }
    if target.service_name:
        body["serviceName"] = target.service_name
    if target.staff_ids:
        body["staffMemberIds"] = list(target.staff_ids)
    return body


def _customer(client, time_zone: str) -> dict:
    doc = {"@odata.type": CUSTOMER_TYPE, "name": client.display_name or client.email or client.phone}
    if client.email:
        doc["emailAddress"] = client.email
    if client.phone:
        doc["phone"] = client.phone
    doc["timeZone"] = time_zone
    return doc


def create_spec(appointment: Appointment, target: BookingsTarget) -> RequestSpec:
    """The one POST that books ``appointment`` (not safe to repeat: Bookings would book it twice)."""
    return RequestSpec(STEP_BOOKING, "POST", "v1.0", business_path(target.business) + "/appointments",
                       booking_body(appointment, target), title="Book the appointment", idempotent=False)


def get_spec(business: str, booking_id: str) -> RequestSpec:
    """GET one appointment: how a re-run confirms that Bookings still holds it."""
    return RequestSpec("bookingGet", "GET", "v1.0",
                       f"{business_path(business)}/appointments/{quote(booking_id, safe='')}",
                       title="Confirm the appointment")


def update_spec(business: str, booking_id: str, appointment: Appointment) -> RequestSpec:
    """PATCH the times (Bookings answers 204)."""
    body = {"startDateTime": date_time_zone(appointment.start), "endDateTime": date_time_zone(appointment.end)}
    return RequestSpec("bookingUpdate", "PATCH", "v1.0",
                       f"{business_path(business)}/appointments/{quote(booking_id, safe='')}", body,
                       title="Reschedule the appointment")


def cancel_spec(business: str, booking_id: str, message: str) -> RequestSpec:
    """POST .../cancel with the message Bookings sends the customer (204)."""
    return RequestSpec("bookingCancel", "POST", "v1.0",
                       f"{business_path(business)}/appointments/{quote(booking_id, safe='')}/cancel",
                       {"cancellationMessage": message}, title="Cancel the appointment", idempotent=False)


def delete_spec(business: str, booking_id: str) -> RequestSpec:
    """DELETE the appointment (204)."""
    return RequestSpec("bookingDelete", "DELETE", "v1.0",
                       f"{business_path(business)}/appointments/{quote(booking_id, safe='')}",
                       title="Delete the appointment")


def calendar_view_spec(business: str, start: datetime, end: datetime) -> RequestSpec:
    """GET calendarView around a slot: the only way to find out whether an unknown create booked it."""
    # The window is widened by a minute each side: Bookings returns appointments that overlap it.
    query = urlencode({"start": _iso(start - timedelta(minutes=1)), "end": _iso(end + timedelta(minutes=1))})
    return RequestSpec("bookingLookup", "GET", "v1.0", f"{business_path(business)}/calendarView?{query}",
                       title="Look the slot up")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date_time_zone(value) -> datetime | None:
    """A dateTimeTimeZone (or ISO string) from Graph as an aware UTC datetime; None when unreadable."""
    if isinstance(value, dict):
        value = value.get("dateTime")
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def booking_start(booking: dict) -> datetime | None:
    """When a bookingAppointment starts (``startDateTime`` or the resource table's ``start``)."""
    return parse_date_time_zone(booking.get("startDateTime") or booking.get("start"))


def booking_end(booking: dict) -> datetime | None:
    """When a bookingAppointment ends."""
    return parse_date_time_zone(booking.get("endDateTime") or booking.get("end"))


def find_booking(bookings: list[dict], appointment: Appointment, service_id: str) -> dict | None:
    """The appointment in ``bookings`` that is this one: same service, same start, a customer in common."""
    start = appointment.start.astimezone(timezone.utc)
    wanted = {c.email.lower() for c in appointment.clients if c.email}
    names = {c.display_name.strip().lower() for c in appointment.clients if c.display_name}
    for booking in bookings:
        if booking.get("serviceId") != service_id or booking_start(booking) != start:
            continue
        customers = [c for c in booking.get("customers") or [] if isinstance(c, dict)]
        emails = {str(c.get("emailAddress") or "").lower() for c in customers}
        if wanted & emails:
            return booking
        if not wanted and names & {str(c.get("name") or "").strip().lower() for c in customers}:
            return booking
    return None


def links(booking: dict) -> tuple[str, str]:
    """(joinWebUrl, the client's link): ``anonymousJoinWebUrl`` when the service allows it."""
    join = booking.get("joinWebUrl") or ""
    return join, booking.get("anonymousJoinWebUrl") or join


def differs(booking: dict, appointment: Appointment) -> bool:
    """True when the booked times are not the appointment's (a re-sent row moved it)."""
    return (booking_start(booking) != appointment.start.astimezone(timezone.utc)
            or booking_end(booking) != appointment.end.astimezone(timezone.utc))
