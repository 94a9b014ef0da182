"""Mail and calendar on one screen (§15): method, path (after /{version}/), handler, permissions."""
from __future__ import annotations

import re

from ..graph.urls import U, Permissions, route
from . import responses

SERVICE = "mail"
MAIL_SEND = Permissions(("Mail.Send",), ("Mail.Send",))
MAIL_WRITE = Permissions(("Mail.ReadWrite",), ("Mail.ReadWrite",))
MAIL_READ = Permissions(("Mail.Read", "Mail.ReadWrite"), ("Mail.Read", "Mail.ReadWrite"))
CALENDARS_WRITE = Permissions(("Calendars.ReadWrite",), ("Calendars.ReadWrite",))
CALENDARS_READ = Permissions(("Calendars.Read", "Calendars.ReadWrite"), ("Calendars.Read", "Calendars.ReadWrite"))

MESSAGES = U + r"/messages"
MESSAGE = MESSAGES + r"/(?P<message>[^/]+)"
FOLDER = U + r"/mailFolders/(?P<folder>[^/]+)"
EVENTS = U + r"/(?:calendar/)?events"   # the default calendar, with or without `calendar/`
EVENT = EVENTS + r"/(?P<event>[^/]+)"


def _route(method, path, handler, permissions):
    return route(method, path, handler, permissions, meeting_path=False, service=SERVICE)


url_paths = [
    _route("POST", U + r"/sendMail", responses.send_mail, MAIL_SEND),
    _route("POST", MESSAGES, responses.create_message, MAIL_WRITE),
    _route("GET", MESSAGES, responses.list_messages, MAIL_READ),
    _route("GET", MESSAGE, responses.get_message, MAIL_READ),
    _route("POST", MESSAGE + r"/send", responses.send_draft, MAIL_SEND),
    _route("GET", FOLDER + r"/messages", responses.list_messages, MAIL_READ),
    _route("POST", EVENTS, responses.create_event, CALENDARS_WRITE),
    _route("GET", EVENTS, responses.list_events, CALENDARS_READ),
    _route("GET", EVENT, responses.get_event, CALENDARS_READ),
    _route("PATCH", EVENT, responses.update_event, CALENDARS_WRITE),
    _route("DELETE", EVENT, responses.delete_event, CALENDARS_WRITE),
]

NAVIGATION = [re.compile(p) for p in (U + r"/mailFolders", FOLDER, U + r"/calendar")]

# The mailbox a Graph path (relative to the version root) works on, for the concurrency gate.
MAILBOX_PATH = re.compile(r"/?(?:me|users/(?P<user>[^/?]+))/(?:sendMail|messages|mailFolders|events|calendar)"
                          r"(?:[/?(]|$)", re.IGNORECASE)


def mailbox_finder(directory):
    """For the mailbox gate: the user mailbox a mail path addresses (``/me`` is the caller's) and Outlook's 429."""
    from urllib.parse import unquote

    from .exceptions import MailboxConcurrency

    def find(path: str, oid: str):
        m = MAILBOX_PATH.match(path)
        if m is None:
            return None
        if m.group("user") is None:
            return oid, MailboxConcurrency
        key = unquote(m.group("user"))
        user = directory.user_by_id_or_upn(key)
        return (user.id if user is not None else key.lower()), MailboxConcurrency
    return find
