"""Dates for test data that must stay ahead of today.

A fixed date goes stale: a past appointment time gets a warning, and the sandbox's Bookings business takes
app bookings only from an hour to 365 days ahead (``minimumLeadTime``, ``maximumAdvance``). Tests that send to
the sandbox or run the CLI in a process of its own take their days from here; tests that check files of fixed,
readable dates in this process check them as on ``CHECKED_ON`` instead (the ``checked_on_new_year`` fixture).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHECKED_ON = datetime(2027, 1, 1, tzinfo=timezone.utc)  # before the fixtures' fixed days (their past ones are meant)


def monday_ahead(weeks: int = 5, *, today: date | None = None) -> datetime:
    """Midnight (naive) of the Monday ``weeks`` weeks after this week's: weekdays follow, months stay ahead."""
    today = today or date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
    return datetime.combine(monday, datetime.min.time())


def low_day_ahead(*, today: date | None = None) -> date:
    """A day that reads two ways (day and month both 12 or less, and not equal), one to two months ahead."""
    today = today or date.today()
    year, month = (today.year, today.month + 2) if today.month <= 10 else (today.year + 1, today.month - 10)
    return date(year, month, 3 if month != 3 else 4)
