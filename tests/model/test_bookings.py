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


def _rules(**over):
    from lib.model.bookings import BookingRules

    business = {"displayName": "Contoso Virtual Care",
                "businessHours": [{"day": d, "timeSlots": [{"startTime": "08:00:00.0000000",
                                                            "endTime": "18:00:00.0000000"}]}
                                  for d in ("monday", "tuesday", "wednesday", "thursday", "friday")],
                "schedulingPolicy": {"minimumLeadTime": "PT1H", "maximumAdvance": "P365D",
                                     "allowStaffSelection": over.pop("allow_staff", True)}}
    return BookingRules.from_graph(business, {"defaultDuration": "PT30M"}, over.pop("zone", "America/New_York"))


def test_an_app_booking_that_keeps_the_rules_has_no_problems():
    from lib.model.bookings import rule_problems

    now = datetime(2027, 2, 1, tzinfo=timezone.utc)
    assert rule_problems(APPT, _rules(), now=now, staff_chosen=True) == []


def test_each_rule_an_app_booking_breaks_is_named_with_the_fix():
    from lib.model.bookings import rule_problems

    now = datetime(2027, 2, 1, tzinfo=timezone.utc)
    long = Appointment("x", START, START + timedelta(minutes=45), clients=APPT.clients)
    assert "lasts 45 minutes, but the service takes 30" in rule_problems(long, _rules(), now=now,
                                                                       staff_chosen=False)[0]
    soon = rule_problems(APPT, _rules(), now=START.astimezone(timezone.utc) - timedelta(minutes=20),
                         staff_chosen=False)
    assert soon == ["It starts too soon: Contoso Virtual Care takes bookings at least 1 hour ahead. "
                    "Choose a later time."]
    far = rule_problems(APPT, _rules(), now=now - timedelta(days=400), staff_chosen=False)
    assert "at most 365 days ahead" in far[0]
    assert "does not let bookings choose a staff member" in rule_problems(
        APPT, _rules(allow_staff=False), now=now, staff_chosen=True)[0]
    sunday = Appointment("x", datetime(2027, 2, 28, 10, tzinfo=NY), datetime(2027, 2, 28, 10, 30, tzinfo=NY),
                         clients=APPT.clients)
    assert rule_problems(sunday, _rules(), now=now, staff_chosen=False) == [
        "Sunday 28 February 2027, 10:00 is outside Contoso Virtual Care's hours (Mon 08:00-18:00, Tue 08:00-18:00, "
        "Wed 08:00-18:00, Thu 08:00-18:00, Fri 08:00-18:00, America/New_York). Choose a time inside them."]
    assert rule_problems(sunday, _rules(zone=""), now=now, staff_chosen=False) == []  # zone unknown: Graph decides


def test_iso_durations_of_any_size_are_read():
    from lib.model.bookings import parse_duration

    assert parse_duration("P365D") == timedelta(days=365)
    assert parse_duration("PT1H30M") == timedelta(minutes=90)
    assert parse_duration("P1DT2H") == timedelta(days=1, hours=2)
    assert parse_duration("PT") is None and parse_duration("soon") is None and parse_duration(None) is None
