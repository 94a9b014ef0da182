"""Calendar files parse with icalendar and carry the appointment's zone, a stable UID and the join link."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from lib.notify import ics

LINK = "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=t&convId=19:meeting_x@thread.v2"
BERLIN = ZoneInfo("Europe/Berlin")


def entry(**changes) -> ics.CalendarEntry:
    start = datetime(2030, 3, 29, 9, 0, tzinfo=BERLIN)
    values = dict(uid=ics.appointment_uid("org-1", "ext-1"), subject="Consultation", start=start,
                  end=start + timedelta(minutes=30), time_zone="Europe/Berlin", join_link=LINK,
                  organizer=ics.Person("Adele Vance", "adele@contoso.example"),
                  attendees=(ics.Person("Maria Garcia", "maria@example.com"),))
    values.update(changes)
    return ics.CalendarEntry(**values)


def test_an_invitation_has_request_uid_sequence_zone_people_and_link():
    cal = Calendar.from_ical(ics.calendar_bytes([entry(sequence=2)]))
    assert cal["METHOD"] == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2030, 3, 29, 9, 0, tzinfo=BERLIN)
    assert event.decoded("DTEND") == datetime(2030, 3, 29, 9, 30, tzinfo=BERLIN)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert event["SEQUENCE"] == 2 and event["UID"] == ics.appointment_uid("org-1", "ext-1")
    assert str(event["ORGANIZER"]) == "mailto:adele@contoso.example" and event["ORGANIZER"].params["CN"] == "Adele Vance"
    assert str(event["ATTENDEE"]) == "mailto:maria@example.com"
    assert str(event["URL"]) == LINK and str(event["LOCATION"]) == LINK and LINK in str(event["DESCRIPTION"])


def test_the_uid_is_stable_for_the_appointment_and_differs_between_appointments():
    assert ics.appointment_uid("Org-1", "ext-1") == ics.appointment_uid("org-1", "ext-1")
    assert ics.appointment_uid("org-1", "ext-1") != ics.appointment_uid("org-1", "ext-2")
    assert ics.appointment_uid("org-1", "ext-1") != ics.appointment_uid("org-2", "ext-1")


def test_a_cancellation_is_method_cancel_with_the_same_uid():
    cal = Calendar.from_ical(ics.calendar_bytes([entry(sequence=1)], ics.CANCEL))
    [event] = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert event["UID"] == entry().uid


def test_one_file_holds_every_appointment_with_each_zone_once():
    ny = ZoneInfo("America/New_York")
    entries = [entry(), entry(uid="b@x", start=datetime(2031, 1, 5, 8, tzinfo=ny), end=datetime(2031, 1, 5, 9, tzinfo=ny),
                              time_zone="America/New_York"), entry(uid="c@x")]
    cal = Calendar.from_ical(ics.calendar_bytes(entries, ics.PUBLISH))
    assert [e["UID"] for e in cal.walk("VEVENT")] == [entries[0].uid, "b@x", "c@x"]
    assert sorted(tz["TZID"] for tz in cal.walk("VTIMEZONE")) == ["America/New_York", "Europe/Berlin"]
    assert cal.walk("VEVENT")[1].decoded("DTSTART") == datetime(2031, 1, 5, 8, tzinfo=ny)


def test_names_with_line_breaks_stay_on_one_line():
    text = ics.calendar_bytes([entry(subject="Visit\r\nX-INJECTED:1",
                                     attendees=(ics.Person("Maria\nATTENDEE:mailto:eve@example.com", "m@example.com"),))])
    cal = Calendar.from_ical(text)
    [event] = cal.walk("VEVENT")
    assert "X-INJECTED" not in event and str(event["SUMMARY"]) == "Visit X-INJECTED:1"
    assert isinstance(event["ATTENDEE"], str) or len(event["ATTENDEE"]) == 1
