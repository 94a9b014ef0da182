"""The Graph surface on one screen: method, path (after /{version}/), handler, permissions, versions."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from . import responses


@dataclass(frozen=True)
class Permissions:
    delegated: tuple[str, ...]
    application: tuple[str, ...]


OM_READ = Permissions(("OnlineMeetings.Read", "OnlineMeetings.ReadWrite"),
                      ("OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"))
OM_WRITE = Permissions(("OnlineMeetings.ReadWrite",), ("OnlineMeetings.ReadWrite.All",))
JOIN_LINK = Permissions(("VirtualAppointment.Read", "VirtualAppointment.ReadWrite", "OnlineMeetings.Read",
                         "OnlineMeetings.ReadWrite"), ())
SMS = Permissions(("VirtualAppointmentNotification.Send",), ())
VA_WRITE = Permissions(("OnlineMeetings.ReadWrite", "VirtualAppointment.ReadWrite"),
                       ("OnlineMeetings.ReadWrite.All", "VirtualAppointment.ReadWrite.All"))
VA_READ = Permissions(VA_WRITE.delegated + ("OnlineMeetings.Read", "VirtualAppointment.Read"),
                      VA_WRITE.application + ("OnlineMeetings.Read.All", "VirtualAppointment.Read.All"))
USER_READ = Permissions(("User.Read",), ("User.Read.All",))

BOTH = ("v1.0", "beta")
BETA = ("beta",)

U = r"(?:me|users/(?P<user>[^/]+))"
MEETINGS = U + r"/onlineMeetings"
MEETING = MEETINGS + r"/(?P<meeting>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable | None          # None: `$batch`, run by the dispatcher itself
    permissions: Permissions | None
    versions: tuple[str, ...] = BOTH
    meeting_path: bool = True         # apply §4's organizer/reach/access-policy rules
    service: str = "meetings"         # which backend the handler takes (the dispatcher's `services`)


def route(method, path, handler, permissions, versions=BOTH, meeting_path=True, service="meetings") -> Route:
    return Route(method, re.compile(path), handler, permissions, versions, meeting_path, service)


url_paths = [
    route("POST", MEETINGS + r"/createOrGet", responses.create_or_get, OM_WRITE),
    route("POST", MEETINGS, responses.create_meeting, OM_WRITE),
    route("GET", MEETINGS, responses.list_meetings, OM_READ),
    route("GET", MEETING, responses.get_meeting, OM_READ),
    route("PATCH", MEETING, responses.update_meeting, OM_WRITE),
    route("DELETE", MEETING, responses.delete_meeting, OM_WRITE),
    route("GET", MEETING + r"/getVirtualAppointmentJoinWebUrl(?:\(\))?", responses.join_web_url, JOIN_LINK),
    route("POST", MEETING + r"/sendVirtualAppointmentSms", responses.send_sms, SMS),
    route("POST", MEETING + r"/sendVirtualAppointmentReminderSms", responses.send_reminder_sms, SMS),
    route("PUT", MEETING + r"/virtualAppointment", responses.put_appointment, VA_WRITE, BETA),
    route("GET", MEETING + r"/virtualAppointment", responses.get_appointment, VA_READ, BETA),
    route("PATCH", MEETING + r"/virtualAppointment", responses.patch_appointment, VA_WRITE, BETA),
    route("DELETE", MEETING + r"/virtualAppointment", responses.delete_appointment, VA_WRITE, BETA),
    route("GET", r"users/(?P<user>[^/]+)", responses.get_user, USER_READ, meeting_path=False),
    route("GET", r"me", responses.get_user, USER_READ, meeting_path=False),
    route("POST", r"\$batch", None, None, meeting_path=False),
]

# Prefixes that are valid navigation on their way to a route (for "Resource not found for the segment").
NAVIGATION = [re.compile(p) for p in (r"users", r"me", U, MEETINGS)]
