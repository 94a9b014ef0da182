"""Mail and calendar backend (§15): mailboxes, drafts, sending, Sent Items, events (no HTTP here).

Nothing leaves the machine: every message that would have been delivered goes to the sent log that
`/_sandbox/mail` and the inbox page show.
"""
from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from ..directory import Directory, User
from ..graph import odata
from ..graph.exceptions import BadRequest
from ..graph.models import Caller
from ..state import State
from . import events as event_rules
from . import messages as rules
from .exceptions import ErrorAccessDenied, ErrorInvalidRequest, ErrorInvalidUser, ErrorItemNotFound, ErrorSendAsDenied
from .store import MailStore

FOLDERS = ("drafts", "sentitems", "inbox", "deleteditems", "outbox")
SEND_MAIL_PROPERTIES = ("message", "saveToSentItems")
HIDDEN = ("attachments", "singleValueExtendedProperties")   # only with $expand, as in Graph


def folder_id(mailbox: str, folder: str) -> str:
    """A stable opaque id for a well-known folder of a mailbox."""
    return "AQMkA" + base64.urlsafe_b64encode(f"{mailbox}/{folder}".encode()).decode()


class MailBackend:
    """Every mailbox and calendar rule; each write is one SQLite transaction."""

    def __init__(self, state: State, directory: Directory):
        self.state = state
        self.directory = directory
        self.store = MailStore(state)

    # -- whose mailbox ---------------------------------------------------------------------------
    def mailbox(self, caller: Caller, path_user: str | None) -> User:
        """`/me` → the signed-in user; `/users/{id or UPN}` → that user (delegated: only oneself)."""
        if path_user is None:
            user = self.directory.user_by_id(caller.oid)
        else:
            user = self.directory.user_by_id_or_upn(path_user)
            if user is None:
                raise ErrorInvalidUser(f"The requested user '{path_user}' is invalid.")
        if user is None:
            raise ErrorInvalidUser(f"The requested user '{caller.oid}' is invalid.")
        if not caller.is_app and user.id != caller.oid:
            raise ErrorAccessDenied("Access is denied. Check credentials and try again. (A delegated token reaches "
                                    "only the signed-in user's own mailbox in the sandbox.)")
        return user

    # -- messages -------------------------------------------------------------------------------
    def send_mail(self, user: User, body: dict[str, Any]) -> None:
        """`sendMail`: validate, then deliver; a copy goes to Sent Items unless saveToSentItems is false."""
        odata.check_properties(body, SEND_MAIL_PROPERTIES, "microsoft.graph.sendMail")
        if body.get("message") is None:
            raise BadRequest("The 'message' parameter is required for sendMail.")
        fields = rules.parse_message(body["message"])
        save = odata.expect_bool(body.get("saveToSentItems"), "saveToSentItems")
        self._check_from(user, fields)
        rules.check_recipients(fields)
        with self.state.write():
            message = self._resource(user, fields, "sentitems", sent=True)
            if save is not False:
                self.store.insert_item(user.id, "sentitems", message)
            self.store.log_sent(user.id, _delivered(user, message))

    def create_draft(self, user: User, body: dict[str, Any]) -> dict[str, Any]:
        """`POST messages`: a draft in Drafts (recipients are checked when it is sent)."""
        fields = rules.parse_message(body)
        self._check_from(user, fields)
        with self.state.write():
            message = self._resource(user, fields, "drafts", sent=False)
            self.store.insert_item(user.id, "drafts", message)
        return message

    def send_draft(self, user: User, message_id: str, *, immutable_id: bool) -> None:
        """`messages/{id}/send`: the draft leaves Drafts; its copy in Sent Items has a new id (unless immutable)."""
        with self.state.write():
            found = self.store.item(user.id, message_id)
            if found is None:
                raise ErrorItemNotFound("The specified object was not found in the store.")
            folder, message = found
            if folder != "drafts":
                raise ErrorInvalidRequest("Only a draft can be sent; this message has already been sent.")
            rules.check_recipients(message)
            now = odata.Instant.now().iso()
            self.store.delete_item(message_id)
            message.update({"isDraft": False, "sentDateTime": now, "lastModifiedDateTime": now,
                            "parentFolderId": folder_id(user.id, "sentitems"),
                            "id": message_id if immutable_id else rules.new_message_id()})
            self.store.insert_item(user.id, "sentitems", message)
            self.store.log_sent(user.id, _delivered(user, message))

    def get_message(self, user: User, message_id: str, expand: str | None) -> dict[str, Any]:
        """One message of the mailbox, in any folder."""
        found = self.store.item(user.id, message_id)
        if found is None:
            raise ErrorItemNotFound("The specified object was not found in the store.")
        return view(found[1], expand)

    def list_messages(self, user: User, folder: str | None, query: dict[str, str]) -> list[dict[str, Any]]:
        """Messages of the mailbox or one well-known folder, newest first, filtered by `$filter`."""
        if folder is not None:
            folder = folder.lower()
            if folder not in FOLDERS:
                raise ErrorItemNotFound(f"The mail folder '{folder}' was not found (the sandbox knows "
                                        f"{', '.join(FOLDERS)}).")
        keep = rules.matching_filter(query.get("$filter"))
        return [view(m, query.get("$expand"), query.get("$select"))
                for m in self.store.items(user.id, folder) if keep(m)]

    def _check_from(self, user: User, fields: dict[str, Any]) -> None:
        sender = fields.get("from")
        if sender and sender["emailAddress"]["address"].lower() != user.mail.lower():
            raise ErrorSendAsDenied("The user account which was used to submit this request does not have the "
                                    "right to send mail on behalf of the specified sending account.")

    def _resource(self, user: User, fields: dict[str, Any], folder: str, *, sent: bool) -> dict[str, Any]:
        now = odata.Instant.now().iso()
        message_id = rules.new_message_id()
        sender = {"emailAddress": {"name": user.display_name, "address": user.mail}}
        return {
            "id": message_id, "createdDateTime": now, "lastModifiedDateTime": now,
            "changeKey": secrets.token_urlsafe(12), "categories": [], "receivedDateTime": now,
            "sentDateTime": now if sent else None, "hasAttachments": bool(fields["attachments"]),
            "internetMessageId": f"<{uuid.uuid4().hex}@{self.directory.tenant_domain}>",
            "subject": fields["subject"], "bodyPreview": rules.body_preview(fields["body"]),
            "importance": fields["importance"], "parentFolderId": folder_id(user.id, folder),
            "conversationId": "AAQkA" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode(),
            "isDeliveryReceiptRequested": fields["isDeliveryReceiptRequested"],
            "isReadReceiptRequested": fields["isReadReceiptRequested"], "isRead": True, "isDraft": not sent,
            "webLink": f"https://outlook.office365.com/owa/?ItemID={message_id}&exvsurl=1&viewmodel=ReadMessageItem",
            "inferenceClassification": "focused", "body": fields["body"], "sender": sender, "from": sender,
            "toRecipients": fields["toRecipients"], "ccRecipients": fields["ccRecipients"],
            "bccRecipients": fields["bccRecipients"], "replyTo": fields["replyTo"],
            "flag": {"flagStatus": "notFlagged"}, "attachments": fields["attachments"],
            "singleValueExtendedProperties": fields["singleValueExtendedProperties"],
        }

    # -- events ---------------------------------------------------------------------------------
    def create_event(self, user: User, body: dict[str, Any]) -> dict[str, Any]:
        """`POST events`; a `transactionId` already used in this mailbox returns that event unchanged."""
        fields = event_rules.parse_event(body, creating=True)
        transaction_id = fields.get("transactionId")
        with self.state.write():
            if transaction_id:
                existing = self.store.event_by_transaction(user.id, transaction_id)
                if existing is not None:
                    return existing
            event_id = rules.new_message_id()
            organizer = {"name": user.display_name, "address": user.mail}
            event = event_rules.new_event(fields, organizer, event_id, odata.Instant.now().iso())
            self.store.insert_event(user.id, event, transaction_id)
            if event["attendees"]:
                self._invite(user, event, "meetingRequest", event["subject"])
        return event

    def get_event(self, user: User, event_id: str) -> dict[str, Any]:
        """One event of the mailbox's calendar, else 404 ErrorItemNotFound."""
        event = self.store.event(user.id, event_id)
        if event is None:
            raise ErrorItemNotFound("The specified object was not found in the store.")
        return event

    def list_events(self, user: User, query: dict[str, str]) -> list[dict[str, Any]]:
        """Every event of the mailbox (no `$filter` in the sandbox)."""
        if query.get("$filter"):
            raise BadRequest("The sandbox lists events without $filter; use GET events/{id} or transactionId on "
                             "create.")
        return self.store.events(user.id)

    def update_event(self, user: User, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH: merge the given properties; the end stays after the start."""
        fields = event_rules.parse_event(body, creating=False)
        if "transactionId" in fields:
            raise BadRequest("transactionId is set when an event is created and cannot be changed.")
        with self.state.write():
            event = self.get_event(user, event_id)
            event.update(fields)
            if event_rules.instant(event["end"]) <= event_rules.instant(event["start"]):
                raise BadRequest("The event's end must be later than its start.")
            event["bodyPreview"] = rules.body_preview(event["body"])
            event["lastModifiedDateTime"] = odata.Instant.now().iso()
            event["changeKey"] = secrets.token_urlsafe(12)
            self.store.update_event(event_id, event)
        return event

    def delete_event(self, user: User, event_id: str) -> None:
        """DELETE; attendees are sent a cancellation."""
        with self.state.write():
            event = self.get_event(user, event_id)
            self.store.delete_event(event_id)
            if event["attendees"]:
                self._invite(user, event, "meetingCancelled", "Canceled: " + event["subject"])

    def _invite(self, user: User, event: dict[str, Any], kind: str, subject: str) -> None:
        """Outlook mails attendees when their organizer's event is created or cancelled."""
        self.store.log_sent(user.id, {
            "id": rules.new_message_id(), "mailboxId": user.id, "from": user.mail, "fromName": user.display_name,
            "toRecipients": [a["emailAddress"]["address"] for a in event["attendees"]],
            "recipients": [a["emailAddress"] for a in event["attendees"]], "ccRecipients": [],
            "bccRecipients": [], "subject": subject, "body": event["body"], "sentDateTime": odata.Instant.now().iso(),
            "attachments": [], "meetingMessageType": kind, "eventId": event["id"]})

    # -- inspection -----------------------------------------------------------------------------
    def inspect_sent(self) -> list[dict[str, Any]]:
        """Every delivered message, oldest first (for /_sandbox/mail)."""
        return self.store.sent()

    def inspect_events(self) -> list[dict[str, Any]]:
        """Every stored event (for /_sandbox/events)."""
        return self.store.events()


def view(message: dict[str, Any], expand: str | None = None, select: str | None = None) -> dict[str, Any]:
    """A stored message as Graph returns it: attachments and extended properties only when expanded."""
    wanted = {part.split("(", 1)[0].strip().lower() for part in (expand or "").split(",") if part.strip()}
    out = {k: v for k, v in message.items() if k not in HIDDEN or k.lower() in wanted}
    if select:
        names = {s.strip().lower() for s in select.split(",")} | {"id"} | wanted
        out = {k: v for k, v in out.items() if k.lower() in names}
    return out


def _delivered(user: User, message: dict[str, Any]) -> dict[str, Any]:
    """The sent log's record of one delivered message (what `/_sandbox/mail` shows)."""
    return {
        "id": message["id"], "internetMessageId": message["internetMessageId"], "mailboxId": user.id,
        "from": user.mail, "fromName": user.display_name,
        "toRecipients": [r["emailAddress"]["address"] for r in message["toRecipients"]],
        "recipients": [r["emailAddress"] for r in message["toRecipients"]],
        "ccRecipients": [r["emailAddress"]["address"] for r in message["ccRecipients"]],
        "bccRecipients": [r["emailAddress"]["address"] for r in message["bccRecipients"]],
        "subject": message["subject"], "body": message["body"], "sentDateTime": message["sentDateTime"],
        "attachments": [{"name": a["name"], "contentType": a["contentType"], "size": a["size"],
                         "contentBytes": a["contentBytes"]} for a in message["attachments"]],
        "singleValueExtendedProperties": message["singleValueExtendedProperties"],
    }
