"""The Microsoft Bookings flow as plain data: the requests that book, confirm, find and change an appointment.

Bookings has no idempotency key (a create can even fail after booking the slot), so the flow is one
POST that is never repeated blindly: after an unknown outcome the runner looks the slot up with
``calendarView`` and matches it with :func:`find_booking` before creating again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

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
    rules: "BookingRules | None" = None  # what the business accepts from an app, when Graph told us


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


# -- the business rules Graph applies to bookings made by an app (checked before sending) -------------
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$", re.I)


def parse_duration(value) -> timedelta | None:
    """An ISO-8601 duration as Bookings writes them (``PT30M``, ``PT1H``, ``P365D``); None when unreadable."""
    m = _DURATION.match(value) if isinstance(value, str) and value not in ("P", "PT") else None
    if m is None:
        return None
    parts = {k: float(v) for k, v in m.groupdict().items() if v}
    return timedelta(days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0),
                     seconds=parts.get("s", 0))


@dataclass(frozen=True)
class BookingRules:
    """What a business accepts from an app: its hours (in ``time_zone``), lead times, staff choice, the length."""

    business_name: str
    duration: timedelta | None
    min_lead: timedelta | None
    max_advance: timedelta | None
    allow_staff_selection: bool
    time_zone: str = ""                                   # "" when Graph did not say: hours are not checked
    hours: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @classmethod
    def from_graph(cls, business: dict, service: dict, time_zone: str = "") -> "BookingRules":
        """From the bookingBusiness and bookingService resources; the service's policy overrides the business's."""
        policy = service.get("schedulingPolicy") or business.get("schedulingPolicy") or {}
        hours = tuple((h.get("day", ""), tuple((s.get("startTime", "")[:5], s.get("endTime", "")[:5])
                                               for s in h.get("timeSlots") or []))
                      for h in business.get("businessHours") or [])
        return cls(business.get("displayName") or business.get("id", ""), parse_duration(service.get("defaultDuration")),
                   parse_duration(policy.get("minimumLeadTime")), parse_duration(policy.get("maximumAdvance")),
                   bool(policy.get("allowStaffSelection", True)), time_zone, hours)


def rule_problems(appointment: Appointment, rules: BookingRules, *, now: datetime, staff_chosen: bool) -> list[str]:
    """Why Bookings would refuse this appointment from an app, in plain words (empty: it should be accepted)."""
    problems = []
    length = appointment.end - appointment.start
    if rules.duration and length != rules.duration:
        problems.append(f"It lasts {_minutes(length)} minutes, but the service takes {_minutes(rules.duration)}: "
                        f"make the row's end (or the schedule's length) {_minutes(rules.duration)} minutes after "
                        "its start.")
    if rules.min_lead and appointment.start < now + rules.min_lead:
        problems.append(f"It starts too soon: {rules.business_name} takes bookings at least "
                        f"{_span(rules.min_lead)} ahead. Choose a later time.")
    if rules.max_advance and appointment.start > now + rules.max_advance:
        problems.append(f"It is too far ahead: {rules.business_name} takes bookings at most "
                        f"{_span(rules.max_advance)} ahead. Choose an earlier date.")
    if staff_chosen and not rules.allow_staff_selection:
        problems.append(f"{rules.business_name} does not let bookings choose a staff member: leave --staff out.")
    if rules.time_zone and rules.hours and not _inside_hours(appointment, rules):
        problems.append(f"{_local(appointment, rules)} is outside {rules.business_name}'s hours "
                        f"({_hours_text(rules)}, {rules.time_zone}). Choose a time inside them.")
    return problems


def _inside_hours(appointment: Appointment, rules: BookingRules) -> bool:
    zone = ZoneInfo(rules.time_zone)
    start, end = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
    slots = dict(rules.hours).get(DAYS[start.weekday()], ())
    return start.date() == end.date() and any(
        opens <= start.strftime("%H:%M") and end.strftime("%H:%M") <= closes for opens, closes in slots)


def _local(appointment: Appointment, rules: BookingRules) -> str:
    start = appointment.start.astimezone(ZoneInfo(rules.time_zone))
    return f"{start:%A %d %B %Y, %H:%M}"


def _hours_text(rules: BookingRules) -> str:
    return ", ".join(f"{day[:3].title()} {slots[0][0]}-{slots[0][1]}" for day, slots in rules.hours if slots) or "closed"


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g}"


def _span(span: timedelta) -> str:
    if span.days and not span.seconds:
        return f"{span.days} days"
    hours, rest = divmod(int(span.total_seconds()), 3600)
    return f"{hours} h {rest // 60} min" if rest else f"{hours} hour{'s' if hours != 1 else ''}"
