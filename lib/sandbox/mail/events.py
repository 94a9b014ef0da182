"""Calendar event rules (§15): writable properties, dateTimeTimeZone values, attendees, the stored resource.

**Sandbox decision:** `dateTime` is a local time without offset (as Graph documents dateTimeTimeZone) and
`timeZone` an IANA name, `UTC` or a Windows zone id; values come back in the zone they were sent in (as
with `Prefer: outlook.timezone` naming that zone).
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..graph import odata
from ..graph.exceptions import BadRequest
from ..graph.timezones import is_windows_zone
from .exceptions import ErrorInvalidRecipients
from .messages import EMAIL, body_preview, extended_properties, item_body

EVENT_TYPE = "microsoft.graph.event"
WRITABLE = frozenset({
    "subject", "body", "start", "end", "location", "locations", "attendees", "isOnlineMeeting",
    "onlineMeetingProvider", "transactionId", "showAs", "isReminderOn", "reminderMinutesBeforeStart",
    "categories", "importance", "sensitivity", "allowNewTimeProposals", "responseRequested",
    "singleValueExtendedProperties", "hideAttendees", "isAllDay",
})
NOT_UPDATABLE = frozenset({"transactionId"})
LOCAL_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?")
ATTENDEE_TYPES = ("required", "optional", "resource")
SHOW_AS = ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown")


def parse_event(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validated fields present in `body`; on create `start` and `end` are required."""
    odata.check_properties(body, WRITABLE, EVENT_TYPE)
    out: dict[str, Any] = {}
    if "subject" in body:
        out["subject"] = odata.expect_string(body["subject"], "subject") or ""
    if "body" in body:
        out["body"] = item_body(body["body"])
    for name in ("start", "end"):
        if body.get(name) is not None:
            out[name] = _date_time_zone(body[name], name)
        elif creating:
            raise BadRequest(f"The {name} property is required when you create an event.")
    if "start" in out and "end" in out and instant(out["end"]) <= instant(out["start"]):
        raise BadRequest("The event's end must be later than its start.")
    if "location" in body:
        out["location"] = _location(body["location"])
    if body.get("attendees") is not None:
        out["attendees"] = _attendees(body["attendees"])
    for name in ("isOnlineMeeting", "isReminderOn", "allowNewTimeProposals", "responseRequested",
                 "hideAttendees", "isAllDay"):
        if name in body:
            out[name] = bool(odata.expect_bool(body[name], name))
    if "showAs" in body:
        out["showAs"] = odata.expect_enum(body["showAs"], "showAs", SHOW_AS, "microsoft.graph.freeBusyStatus")
    if "transactionId" in body:
        out["transactionId"] = odata.expect_string(body["transactionId"], "transactionId")
    if "singleValueExtendedProperties" in body:
        out["singleValueExtendedProperties"] = extended_properties(body["singleValueExtendedProperties"])
    for name in ("onlineMeetingProvider", "categories", "importance", "sensitivity", "reminderMinutesBeforeStart",
                 "locations"):
        if name in body:
            out[name] = body[name]
    return out


def _date_time_zone(value: Any, name: str) -> dict[str, str]:
    item = odata.expect_object(value, "microsoft.graph.dateTimeTimeZone")
    odata.check_properties(item, ("dateTime", "timeZone"), "microsoft.graph.dateTimeTimeZone")
    text = item.get("dateTime")
    m = LOCAL_TIME.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise BadRequest(f"{name}.dateTime: expected a local time such as 2027-05-01T09:30:00 (no offset; the zone "
                         f"goes in {name}.timeZone), got {text!r}.")
    zone = item.get("timeZone")
    if not isinstance(zone, str) or not (_zone(zone) or is_windows_zone(zone)):
        raise BadRequest(f"{name}.timeZone: '{zone}' is not a time zone Outlook knows (use an IANA name such as "
                         "Europe/Berlin, UTC, or a Windows zone id).")
    try:
        datetime.fromisoformat(m.group(1) + ":" + (m.group(2) or "00"))
    except ValueError:
        raise BadRequest(f"{name}.dateTime: {text!r} is not a valid date and time.") from None
    return {"dateTime": f"{m.group(1)}:{m.group(2) or '00'}.{(m.group(3) or '').ljust(7, '0')}", "timeZone": zone}


def _zone(name: str) -> ZoneInfo | None:
    if name.upper() == "UTC":
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name) if "/" in name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def instant(value: dict[str, str]) -> tuple:
    """Comparable start/end: UTC when the zone is IANA, else the local time (Windows ids: no table here)."""
    local = datetime.fromisoformat(value["dateTime"][:19])
    zone = _zone(value["timeZone"])
    if zone is None:
        return (value["timeZone"], local)
    return ("", local.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None))


def _location(value: Any) -> dict[str, Any]:
    item = odata.expect_object(value, "microsoft.graph.location")
    odata.check_properties(item, ("displayName", "locationType", "locationUri", "uniqueId", "uniqueIdType",
                                  "address", "coordinates", "locationEmailAddress"), "microsoft.graph.location")
    return {"displayName": odata.expect_string(item.get("displayName"), "displayName") or "",
            "locationType": item.get("locationType") or "default",
            **({"locationUri": item["locationUri"]} if item.get("locationUri") else {})}


def _attendees(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise BadRequest("attendees must be a JSON array of {emailAddress, type}.")
    out = []
    for i, raw in enumerate(value):
        item = odata.expect_object(raw, "microsoft.graph.attendee")
        odata.check_properties(item, ("emailAddress", "type", "status", "proposedNewTime"), "microsoft.graph.attendee")
        address = odata.expect_object(item.get("emailAddress"), "microsoft.graph.emailAddress")
        email = address.get("address")
        if not isinstance(email, str) or not EMAIL.fullmatch(email):
            raise ErrorInvalidRecipients(f"attendees[{i}]: '{email}' is not a valid email address.")
        kind = item.get("type") or "required"
        odata.expect_enum(kind, "type", ATTENDEE_TYPES, "microsoft.graph.attendeeType")
        out.append({"type": kind, "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                    "emailAddress": {"name": address.get("name") or email, "address": email}})
    return out


def new_event(fields: dict[str, Any], organizer: dict[str, str], event_id: str, now: str) -> dict[str, Any]:
    """The stored event for a create."""
    body = fields.get("body") or {"contentType": "text", "content": ""}
    online = bool(fields.get("isOnlineMeeting"))
    event = {
        "id": event_id, "createdDateTime": now, "lastModifiedDateTime": now,
        "changeKey": secrets.token_urlsafe(12), "categories": [], "transactionId": None,
        "originalStartTimeZone": fields["start"]["timeZone"], "originalEndTimeZone": fields["end"]["timeZone"],
        "iCalUId": "040000008200E00074C5B7101A82E008" + secrets.token_hex(28).upper(),
        "reminderMinutesBeforeStart": 15, "isReminderOn": True, "hasAttachments": False, "subject": "",
        "bodyPreview": body_preview(body), "importance": "normal", "sensitivity": "normal", "isAllDay": False,
        "isCancelled": False, "isOrganizer": True, "responseRequested": True, "showAs": "busy",
        "type": "singleInstance", "hideAttendees": False, "allowNewTimeProposals": True,
        "isOnlineMeeting": online, "onlineMeetingProvider": "teamsForBusiness" if online else "unknown",
        "onlineMeeting": ({"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
                                      + secrets.token_urlsafe(24) + "%40thread.v2/0"} if online else None),
        "location": {"displayName": "", "locationType": "default"}, "locations": [], "attendees": [],
        "organizer": {"emailAddress": organizer}, "body": body,
    }
    event.update({k: v for k, v in fields.items() if k not in ("body", "isOnlineMeeting")})
    event["webLink"] = f"https://outlook.office365.com/owa/?itemid={event_id}&exvsurl=1&path=/calendar/item"
    return event
