"""Message rules (§15): which properties a message body may carry, recipients, attachments,
singleValueExtendedProperties, the stored resource and the extended-property `$filter`."""
from __future__ import annotations

import base64
import binascii
import html
import re
import uuid
from typing import Any

from ..graph import odata
from ..graph.exceptions import BadRequest, RequestEntityTooLarge
from .exceptions import ErrorInvalidRecipients, ErrorInvalidUrlQueryFilter

MESSAGE_TYPE = "microsoft.graph.message"
WRITABLE = frozenset({
    "subject", "body", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "attachments",
    "singleValueExtendedProperties", "multiValueExtendedProperties", "importance", "internetMessageHeaders",
    "isDeliveryReceiptRequested", "isReadReceiptRequested", "categories", "from", "sender", "flag",
    "inferenceClassification",
})
RECIPIENT_FIELDS = ("toRecipients", "ccRecipients", "bccRecipients")
EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s.<>,;\"]+(?:\.[^@\s.<>,;\"]+)+")
PROPERTY_ID = re.compile(r"(String|Integer|Boolean|SystemTime|Binary|Long|Double|Guid) "
                         r"(\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\} "
                         r"(Name \S.*|Id 0x[0-9a-fA-F]+)|0x[0-9a-fA-F]+)")
MAX_ATTACHMENT = 3 * 1024 * 1024
FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"
# singleValueExtendedProperties/any(ep: ep/id eq '...' and ep/value eq '...'), as the docs write it.
ANY_FILTER = re.compile(
    r"\s*singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'((?:[^']|'')*)'\s+and\s+"
    r"\1/value\s+eq\s+'((?:[^']|'')*)'\s*\)\s*", re.IGNORECASE)


def new_message_id() -> str:
    """Exchange-like opaque id: base64 with `-`, `_` and `=` (clients must percent-encode it)."""
    raw = b"\x00\x00\x00\x00" + uuid.uuid4().bytes + uuid.uuid4().bytes[:6]
    return "AAMkA" + base64.urlsafe_b64encode(raw).decode()


def parse_message(body: Any) -> dict[str, Any]:
    """A validated message body (recipients are checked for shape here, for being addresses at send)."""
    message = odata.expect_object(body, MESSAGE_TYPE)
    odata.check_properties(message, WRITABLE, MESSAGE_TYPE)
    out: dict[str, Any] = {"subject": odata.expect_string(message.get("subject"), "subject") or ""}
    out["body"] = item_body(message.get("body"))
    for name in RECIPIENT_FIELDS + ("replyTo",):
        out[name] = _recipients(message.get(name), name)
    out["attachments"] = _attachments(message.get("attachments"))
    out["singleValueExtendedProperties"] = extended_properties(message.get("singleValueExtendedProperties"))
    importance = message.get("importance") or "normal"
    out["importance"] = odata.expect_enum(importance.lower() if isinstance(importance, str) else importance,
                                          "importance", ("low", "normal", "high"), "microsoft.graph.importance")
    if message.get("from") is not None:
        out["from"] = _recipient(message["from"], "from")
    for name in ("isDeliveryReceiptRequested", "isReadReceiptRequested"):
        out[name] = bool(odata.expect_bool(message.get(name), name))
    return out


def item_body(value: Any) -> dict[str, str]:
    """An itemBody: contentType text or html (any case on input, lower case stored), content."""
    if value is None:
        return {"contentType": "text", "content": ""}
    body = odata.expect_object(value, "microsoft.graph.itemBody")
    odata.check_properties(body, ("contentType", "content"), "microsoft.graph.itemBody")
    kind = body.get("contentType") or "text"
    if not isinstance(kind, str) or kind.lower() not in ("text", "html"):
        raise BadRequest(f"Requested value '{kind}' was not found: body.contentType is Text or HTML.")
    return {"contentType": kind.lower(), "content": odata.expect_string(body.get("content"), "content") or ""}


def _recipients(value: Any, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"Cannot convert the value of '{name}' to a collection of microsoft.graph.recipient: "
                         "a JSON array is expected.")
    return [_recipient(item, f"{name}[{i}]") for i, item in enumerate(value)]


def _recipient(value: Any, where: str) -> dict[str, Any]:
    item = odata.expect_object(value, "microsoft.graph.recipient")
    odata.check_properties(item, ("emailAddress",), "microsoft.graph.recipient")
    address = odata.expect_object(item.get("emailAddress"), "microsoft.graph.emailAddress")
    odata.check_properties(address, ("address", "name"), "microsoft.graph.emailAddress")
    out = {"address": odata.expect_string(address.get("address"), f"{where}.emailAddress.address") or ""}
    name = odata.expect_string(address.get("name"), f"{where}.emailAddress.name")
    out["name"] = name if name else out["address"]
    return {"emailAddress": out}


def _attachments(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("Cannot convert the value of 'attachments' to a collection: a JSON array is expected.")
    out = []
    for i, raw in enumerate(value):
        item = odata.expect_object(raw, "microsoft.graph.attachment")
        kind = item.get("@odata.type")
        if kind != FILE_ATTACHMENT:
            raise BadRequest(f"attachments[{i}]: the sandbox takes '@odata.type': '{FILE_ATTACHMENT}' "
                             f"attachments (got {kind!r}).")
        odata.check_properties(item, ("name", "contentType", "contentBytes", "isInline", "contentId", "size"),
                               "microsoft.graph.fileAttachment")
        content = odata.expect_string(item.get("contentBytes"), "contentBytes") or ""
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"attachments[{i}].contentBytes is not valid base64.") from None
        if len(data) > MAX_ATTACHMENT:
            raise RequestEntityTooLarge(f"attachments[{i}] is over 3 MB: larger files need an upload session.")
        out.append({"@odata.type": FILE_ATTACHMENT, "id": new_message_id(),
                    "name": odata.expect_string(item.get("name"), "name") or "attachment",
                    "contentType": odata.expect_string(item.get("contentType"), "contentType")
                    or "application/octet-stream",
                    "size": len(data), "isInline": bool(item.get("isInline")), "contentBytes": content})
    return out


def extended_properties(value: Any) -> list[dict[str, str]]:
    """singleValueExtendedProperties: `{id, value}` items with ids such as 'String {GUID} Name NAME'."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("singleValueExtendedProperties must be a JSON array of {id, value}.")
    out = []
    for raw in value:
        item = odata.expect_object(raw, "microsoft.graph.singleValueLegacyExtendedProperty")
        odata.check_properties(item, ("id", "value"), "microsoft.graph.singleValueLegacyExtendedProperty")
        prop_id = odata.expect_string(item.get("id"), "id") or ""
        if not PROPERTY_ID.fullmatch(prop_id):
            raise BadRequest(f"The extended property id '{prop_id}' is not valid: use "
                             "'String {GUID} Name NAME' (or a proptag such as 'String 0x0037').")
        out.append({"id": prop_id, "value": odata.expect_string(item.get("value"), "value") or ""})
    return out


def check_recipients(message: dict[str, Any]) -> None:
    """At send: at least one recipient, and every one a syntactically valid address."""
    everyone = [r for name in RECIPIENT_FIELDS for r in message[name]]
    if not everyone:
        raise ErrorInvalidRecipients("At least one recipient is required, but none were found.")
    for recipient in everyone:
        address = recipient["emailAddress"]["address"]
        if not EMAIL.fullmatch(address):
            raise ErrorInvalidRecipients(f"At least one recipient is not valid., Recipient '{address}' is not "
                                         "resolved. All recipients must be resolved before a message can be "
                                         "submitted.")


def body_preview(body: dict[str, str]) -> str:
    """The first 255 characters of the text, markup removed."""
    text = body["content"]
    if body["contentType"] == "html":
        text = html.unescape(re.sub(r"<[^>]*>", " ", text))
    return " ".join(text.split())[:255]


def matching_filter(expression: str | None):
    """A predicate over stored messages for `$filter` (None: all); other filters → 400."""
    if not expression:
        return lambda message: True
    m = ANY_FILTER.fullmatch(expression)
    if not m:
        raise ErrorInvalidUrlQueryFilter(
            "The sandbox filters messages only by an extended property: singleValueExtendedProperties/any("
            f"ep: ep/id eq '...' and ep/value eq '...'). Got: '{expression}'.")
    prop_id, value = m.group(2).replace("''", "'"), m.group(3).replace("''", "'")

    def match(message: dict[str, Any]) -> bool:
        return any(p["id"].lower() == prop_id.lower() and p["value"] == value
                   for p in message.get("singleValueExtendedProperties", []))
    return match
