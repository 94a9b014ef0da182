"""Slots for rows without times: consecutive appointments from a first start, in one time zone.

Arithmetic is wall-clock in the zone (a 09:00 start stays 09:00 across a DST change) and each
appointment lasts its real length. Working hours push a slot that would not fit to the next day's first
hour; weekdays-only skips Saturday and Sunday; a slot that would start in a DST gap moves forward to
the first time that exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from lib.model.appointment import DEFAULT_SUBJECT, ModelError, check_time_zone
from lib.model.timezones import is_nonexistent

MAX_DURATION = 24 * 60


@dataclass
class Schedule:
    start: datetime | None = None
    duration: int = 30
    gap: int = 0
    tz: str = "UTC"
    subject: str = DEFAULT_SUBJECT
    hours: tuple[time, time] | None = None
    weekdays_only: bool = False

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """ModelError naming the setting when the schedule cannot produce slots."""
        for name in ("duration", "gap"):  # 30.0 from a number widget is 30
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                setattr(self, name, int(value))
        check_time_zone(self.tz, "Time zone")
        if isinstance(self.duration, bool) or not isinstance(self.duration, int):
            raise ModelError("Appointment length", f"must be a whole number of minutes, not {self.duration!r}.")
        if self.duration <= 0:
            raise ModelError("Appointment length", f"must be at least 1 minute (it is {self.duration}).")
        if self.duration > MAX_DURATION:
            raise ModelError("Appointment length", f"must be at most {MAX_DURATION} minutes (one day); it is {self.duration}.")
        if isinstance(self.gap, bool) or not isinstance(self.gap, int) or self.gap < 0:
            raise ModelError("Gap between appointments", f"must be 0 or more minutes, not {self.gap!r}.")
        if self.hours is not None:
            first, last = self.hours
            if not (isinstance(first, time) and isinstance(last, time)):
                raise ModelError("Working hours", "must be two times, such as 09:00-17:00.")
            if first >= last:
                raise ModelError("Working hours", f"must end after they start ({first:%H:%M}-{last:%H:%M}); "
                                                  "write them like 09:00-17:00.")
            span = _minutes(last) - _minutes(first)
            if self.duration > span:
                raise ModelError("Working hours", f"{first:%H:%M}-{last:%H:%M} is {span} minutes, shorter than one "
                                                  f"{self.duration}-minute appointment; widen the hours or shorten "
                                                  "the appointments.")
        if self.start is not None and not isinstance(self.start, datetime):
            raise ModelError("First appointment", "must be a date and time, such as 2027-03-01T09:00.")
        if not isinstance(self.subject, str):
            raise ModelError("Subject", "must be text.")

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)

    def first_start(self, now: datetime | None = None) -> datetime:
        """The first slot's wall-clock start (naive, in tz): ``start``, or the next working day at 09:00."""
        if self.start is not None:
            if self.start.tzinfo is not None:
                return self.start.astimezone(self.zone).replace(tzinfo=None)
            return self.start
        today = (now or datetime.now(timezone.utc)).astimezone(self.zone).date()
        day = today + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return datetime.combine(day, self.hours[0] if self.hours else time(9, 0))

    def slots(self, n: int, *, now: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """``n`` (start, end) pairs, aware datetimes in tz, one after another with ``gap`` minutes between."""
        zone = self.zone
        length = timedelta(minutes=self.duration)
        gap = timedelta(minutes=self.gap)
        wall = self.first_start(now)
        day_start = self.hours[0] if self.hours else wall.time()
        previous_end: datetime | None = None  # in UTC: same-zone aware datetimes compare by wall clock
        for _ in range(max(0, n)):
            wall = self._fit(wall, day_start)
            start = wall.replace(tzinfo=zone)
            if previous_end is not None and start.astimezone(timezone.utc) < previous_end:
                start = wall.replace(tzinfo=zone, fold=1)  # the repeated hour: take its second occurrence
            end_utc = start.astimezone(timezone.utc) + length
            end = end_utc.astimezone(zone)
            yield start, end
            previous_end = end_utc
            wall = end.replace(tzinfo=None) + gap

    def _fit(self, wall: datetime, day_start: time) -> datetime:
        """Move a wall-clock start forward until it is allowed: weekdays, hours, not in a DST gap."""
        zone = self.zone
        for _ in range(3000):
            moved = False
            if self.weekdays_only and wall.weekday() >= 5:
                wall = datetime.combine(wall.date() + timedelta(days=7 - wall.weekday()), day_start)
                moved = True
            if self.hours is not None:
                first, last = self.hours
                if wall.time() < first:
                    wall = datetime.combine(wall.date(), first)
                    moved = True
                aware = wall.replace(tzinfo=zone)
                end = (aware.astimezone(timezone.utc) + timedelta(minutes=self.duration)).astimezone(zone)
                end_wall = end.replace(tzinfo=None)
                if end_wall > datetime.combine(wall.date(), last):
                    wall = datetime.combine(wall.date() + timedelta(days=1), first)
                    moved = True
            if is_nonexistent(wall.replace(tzinfo=zone)):
                wall = _after_gap(wall, zone)
                moved = True
            if not moved:
                return wall
        raise ModelError("Schedule", "could not find a time that fits these hours and days.")


def _after_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first wall-clock minute after a DST gap that ``wall`` falls into."""
    probe = wall.replace(second=0, microsecond=0)
    for _ in range(24 * 60):
        probe += timedelta(minutes=1)
        if not is_nonexistent(probe.replace(tzinfo=zone)):
            return probe
    return wall + timedelta(hours=1)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = check_time_zone(name, "Time zone")
    return zone


_HOURS = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*([ap]\.?m\.?)?\s*(?:-|–|—|to|until)\s*"
                    r"(\d{1,2})(?:[:.h](\d{2}))?\s*([ap]\.?m\.?)?\s*$", re.IGNORECASE)


def parse_hours(text: str) -> tuple[time, time]:
    """'09:00-17:00' (also '9-17', '9am-5pm', '9:30 to 16:00') -> (time(9), time(17))."""
    match = _HOURS.match(str(text or ""))
    if not match:
        raise ModelError("Working hours", f"'{text}' is not a range of hours; write it like 09:00-17:00.")
    h1, m1, p1, h2, m2, p2 = match.groups()
    try:
        first = _clock(int(h1), int(m1 or 0), p1)
        last = _clock(int(h2), int(m2 or 0), p2)
    except ValueError:
        raise ModelError("Working hours", f"'{text}' is not a range of hours; write it like 09:00-17:00.") from None
    if first >= last:
        raise ModelError("Working hours", f"'{text}' ends before it starts; write it like 09:00-17:00.")
    return first, last


def _clock(hour: int, minute: int, meridiem: str | None) -> time:
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError
        hour = hour % 12 + (12 if meridiem.lower().startswith("p") else 0)
    if hour == 24 and minute == 0:
        return time(23, 59)
    return time(hour, minute)

