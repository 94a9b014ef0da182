"""Calendar files (RFC 5545) built with `icalendar`: the invitation attached to a client's email, the
cancellation, and one file with every appointment of a run.

The `UID` is stable for an appointment (its meeting's externalId and organizer), so an update
(higher `SEQUENCE`) or a cancellation replaces the entry a client's calendar already holds.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Appointment Studio//Virtual appointments//EN"
REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"
UID_DOMAIN = "appointment-studio.invalid"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class CalendarEntry:
    """What a calendar needs to know about one appointment."""

    uid: str
    subject: str
    start: datetime            # timezone-aware
    end: datetime
    time_zone: str             # IANA name the times are shown in
    join_link: str
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()
    sequence: int = 0
    description: str = ""
    stamp: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def appointment_uid(organizer: str, meeting_external_id: str) -> str:
    """The same UID for the same appointment (organizer + createOrGet key), whatever else changes."""
    digest = hashlib.sha256(f"{organizer.lower()}|{meeting_external_id}".encode()).hexdigest()[:32]
    return f"{digest}@{UID_DOMAIN}"


def calendar_bytes(entries: list[CalendarEntry], method: str = REQUEST) -> bytes:
    """One VCALENDAR with a VEVENT per entry and the VTIMEZONEs they use."""
    if method not in (REQUEST, CANCEL, PUBLISH):
        raise ValueError(f"unknown iCalendar method {method!r}")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    for entry in entries:
        cal.add_component(_event(entry, method))
    if entries:
        first = min(e.start for e in entries).date() - timedelta(days=366)
        last = max(e.end for e in entries).date() + timedelta(days=366)
        cal.add_missing_timezones(first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 1, 1))
    return cal.to_ical()


def _event(entry: CalendarEntry, method: str) -> Event:
    zone = ZoneInfo(entry.time_zone)
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", entry.stamp.astimezone(timezone.utc))
    event.add("dtstart", entry.start.astimezone(zone))
    event.add("dtend", entry.end.astimezone(zone))
    event.add("summary", _one_line(entry.subject))
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if entry.join_link:
        event.add("url", entry.join_link)
        event.add("location", vText(entry.join_link))
    description = entry.description or (f"Join: {entry.join_link}" if entry.join_link else "")
    if description:
        event.add("description", description)
    if entry.organizer is not None and entry.organizer.email:
        event.add("organizer", _address(entry.organizer), encode=False)
    for person in entry.attendees:
        if person.email:
            attendee = _address(person)
            attendee.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE",
                                    "CUTYPE": "INDIVIDUAL"})
            event.add("attendee", attendee, encode=False)
    return event


def _address(person: Person) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = _one_line(person.name)
    return address


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
