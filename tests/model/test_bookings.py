"""The bookings flow as data: the body Graph expects and how a lost booking is recognised."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from lib.model.appointment import Appointment, Client
from lib.model.bookings import (BookingsTarget, booking_body, calendar_view_spec, create_spec, differs, find_booking,
                                links)

NY = ZoneInfo("America/New_York")
START = datetime(2027, 3, 1, 9, 30, tzinfo=NY)
APPT = Appointment("Lab results", START, START + timedelta(minutes=30), time_zone="America/New_York",
                   clients=(Client("Maria Gonzalez", "maria@example.com", "+12025550123"),))
TARGET = BookingsTarget("virtualcare@contoso.onmicrosoft.com", "svc-1", "Initial consultation", 30, True,
                        staff_ids=("staff-1",))


def test_the_body_carries_typed_customers_utc_times_and_the_choices():
    body = booking_body(APPT, TARGET)
    assert body["startDateTime"] == {"dateTime": "2027-03-01T14:30:00.0000000+00:00", "timeZone": "UTC"}
    assert body["customers"] == [{"@odata.type": "#microsoft.graph.bookingCustomerInformation",
                                  "name": "Maria Gonzalez", "emailAddress": "maria@example.com",
                                  "phone": "+12025550123", "timeZone": "America/New_York"}]
    assert body["serviceId"] == "svc-1" and body["staffMemberIds"] == ["staff-1"]
    assert body["isLocationOnline"] is True and body["optOutOfCustomerEmail"] is False
    assert body["customerTimeZone"] == "America/New_York"


def test_the_create_is_never_repeated_blindly():
    spec = create_spec(APPT, TARGET)
    assert spec.method == "POST" and not spec.idempotent
    assert spec.path == "/solutions/bookingBusinesses/virtualcare@contoso.onmicrosoft.com/appointments"


def test_the_calendar_view_brackets_the_slot_in_utc():
    spec = calendar_view_spec(TARGET.business, APPT.start, APPT.end)
    assert "start=2027-03-01T14%3A29%3A00Z" in spec.path and "end=2027-03-01T15%3A01%3A00Z" in spec.path


def _booking(**over):
    doc = {"id": "b1", "serviceId": "svc-1",
           "startDateTime": {"dateTime": "2027-03-01T14:30:00.0000000Z", "timeZone": "UTC"},
           "endDateTime": {"dateTime": "2027-03-01T15:00:00.0000000Z", "timeZone": "UTC"},
           "customers": [{"emailAddress": "MARIA@example.com", "name": "Maria"}],
           "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/x", "anonymousJoinWebUrl": None}
    doc.update(over)
    return doc


def test_a_booking_is_found_by_service_start_and_customer_email():
    assert find_booking([_booking()], APPT, "svc-1")["id"] == "b1"
    assert find_booking([_booking(serviceId="other")], APPT, "svc-1") is None
    assert find_booking([_booking(customers=[{"emailAddress": "james@example.com"}])], APPT, "svc-1") is None
    later = {"dateTime": "2027-03-01T15:00:00.0000000Z", "timeZone": "UTC"}
    assert find_booking([_booking(startDateTime=later)], APPT, "svc-1") is None


def test_the_clients_link_falls_back_to_the_join_link_without_anonymous_join():
    assert links(_booking()) == ("https://teams.microsoft.com/l/meetup-join/x",) * 2
    assert links(_booking(anonymousJoinWebUrl="https://visit/x"))[1] == "https://visit/x"


def test_a_moved_appointment_differs_from_its_booking():
    assert not differs(_booking(), APPT)
    moved = Appointment("Lab results", START + timedelta(hours=1), START + timedelta(minutes=90),
                        clients=APPT.clients)
    assert differs(_booking(), moved)
    assert datetime(2027, 3, 1, 14, 30, tzinfo=timezone.utc) == APPT.start
