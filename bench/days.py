"""The day the bench files start on: a Monday ahead of today.

A fixed date goes stale: past times get a warning on every row (work the bench would then measure), and the
sandbox's Bookings business takes app bookings only from an hour to 365 days ahead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta


def monday_ahead(weeks: int = 2, hour: int = 0) -> datetime:
    """``hour`` o'clock (naive) on the Monday ``weeks`` weeks after this week's."""
    today = date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
    return datetime(monday.year, monday.month, monday.day, hour)
