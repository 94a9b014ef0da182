"""What a connection can do, decided before anything is sent: the cloud and the kind of sign-in.

Join links and SMS exist only in the Global cloud and only for a signed-in person; Teams meetings
through Graph do not exist in every cloud. Each function returns what to tell the person (None:
allowed), so the client raises one ``NotSupported`` error with it.
"""

from __future__ import annotations

import re

from lib.graph.clouds import Cloud
from lib.model.flows import BOOKINGS, JOIN_LINK, VIRTUAL_APPOINTMENT

DELEGATED_ONLY = re.compile(r"/(getVirtualAppointmentJoinWebUrl|sendVirtualAppointment(Reminder)?Sms)\b",
                            re.IGNORECASE)


def unsupported_flow(cloud: Cloud, auth_kind: str, flow: str, sms: bool = False) -> tuple[str, str] | None:
    """(what is not possible, what to do instead) for a flow this connection cannot run, else None."""
    if flow == BOOKINGS:  # app-only and delegated sign-in both book (graph-reference §14)
        return None
    if flow not in (VIRTUAL_APPOINTMENT, JOIN_LINK):
        return f"unknown flow {flow!r}; choose {VIRTUAL_APPOINTMENT}, {JOIN_LINK} or {BOOKINGS}", ""
    if not cloud.meetings:
        return (f"Teams online meetings through Graph are not available in the {cloud.name} cloud.",
                "Use a connection in the Global or a US Government cloud.")
    if flow != JOIN_LINK and not sms:
        return None
    what = "Text messages" if sms and flow != JOIN_LINK else "Join links" + (" and text messages" if sms else "")
    if not cloud.join_link_and_sms:
        return (f"{what} are only available in Microsoft's Global cloud, not {cloud.name}.",
                f"Choose the {VIRTUAL_APPOINTMENT} flow, or a connection in the Global cloud.")
    if auth_kind == "app":
        return (f"{what} need a signed-in user: Graph does not offer them to an app signed in with client "
                "credentials.",
                "Use a connection with device-code sign-in (auth: device_code), or choose the "
                f"{VIRTUAL_APPOINTMENT} flow (Microsoft retired its beta resource; it works against the sandbox).")
    return None


def unsupported_request(cloud: Cloud, auth_kind: str, path: str) -> str | None:
    """Why one request cannot be sent on this connection, else None."""
    bare = path.split("?", 1)[0]
    if "/onlinemeetings" in bare.lower() and not cloud.meetings:
        return f"Teams online meetings through Graph are not available in the {cloud.name} cloud."
    if DELEGATED_ONLY.search(bare):
        if not cloud.join_link_and_sms:
            return f"join links and SMS are only available in the Global cloud, not {cloud.name}."
        if auth_kind == "app":
            return ("join links and SMS need a delegated sign-in (device code); an app signed in with client "
                    "credentials cannot use them.")
    return None
