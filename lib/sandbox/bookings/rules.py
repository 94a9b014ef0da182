"""Bookings' business rules for appointments made with application permissions
(`concepts/bookingsbusiness-business-rules.md`); each refusal is a 400 naming the rule."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..graph.exceptions import BadRequest
from .business import DAYS, TIME_ZONE, Business, Service
from .times import parse_duration


def policy_for(business: Business, service: Service) -> dict[str, Any]:
    """The service's scheduling policy overrides the business's."""
    return service.resource().get("schedulingPolicy") or business.policy


def check_app_booking(business: Business, service: Service, start: datetime, end: datetime,
                      staff_ids: list[str], now: datetime) -> None:
    """Lead times, business hours, the service's duration and staff selection, in that order."""
    policy = policy_for(business, service)
    _lead_times(policy, start, now)
    _inside_business_hours(business, start, end)
    wanted = timedelta(minutes=service.minutes)
    if end - start != wanted:
        raise BadRequest(f"Business rule 'duration': an appointment for '{service.name}' must last "
                         f"{service.minutes} minutes (the service's defaultDuration), not "
                         f"{_minutes(end - start)} minutes.")
    if staff_ids and not policy.get("allowStaffSelection"):
        raise BadRequest("Business rule 'allowStaffSelection': this business's scheduling policy does not allow "
                         "choosing staff; leave staffMemberIds empty.")


def _lead_times(policy: dict[str, Any], start: datetime, now: datetime) -> None:
    lead = parse_duration(policy["minimumLeadTime"])
    if start < now + lead:
        raise BadRequest(f"Business rule 'minimumLeadTime': appointments must be booked at least "
                         f"{policy['minimumLeadTime']} ahead; this one starts at {start:%Y-%m-%d %H:%M} UTC.")
    advance = parse_duration(policy["maximumAdvance"])
    if start > now + advance:
        raise BadRequest(f"Business rule 'maximumAdvance': appointments can be booked at most "
                         f"{policy['maximumAdvance']} ahead; this one starts at {start:%Y-%m-%d %H:%M} UTC.")


def _inside_business_hours(business: Business, start: datetime, end: datetime) -> None:
    tz = ZoneInfo(TIME_ZONE)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = DAYS[local_start.weekday()]
    slots = next(h["timeSlots"] for h in business.hours() if h["day"] == day)
    for slot in slots:
        opens, closes = _clock(slot["startTime"]), _clock(slot["endTime"])
        if (local_start.date() == local_end.date() and opens <= local_start.time()
                and local_end.time() <= closes):
            return
    hours = ", ".join(f"{h['day'][:3].title()} {h['timeSlots'][0]['startTime'][:5]}-"
                      f"{h['timeSlots'][0]['endTime'][:5]}" for h in business.hours() if h["timeSlots"])
    raise BadRequest(f"Business rule 'businessHours': the appointment ({local_start:%a %Y-%m-%d %H:%M}-"
                     f"{local_end:%H:%M} {TIME_ZONE}) is outside the business hours of '{business.display_name}' "
                     f"({hours}, {TIME_ZONE}).")


def _clock(text: str) -> time:
    return time.fromisoformat(text[:8])


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g}"
