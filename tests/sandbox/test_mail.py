"""Mail (§15): sendMail, drafts with an extended property, send, Sent Items, permissions, recipients,
the sent log at /_sandbox/mail and the inbox page."""
from __future__ import annotations

import base64
import uuid
from urllib.parse import quote

import pytest

from .conftest import ADELE, MEGAN, Graph, assert_graph_error, user_token

pytestmark = pytest.mark.timeout(60)
PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name AppointmentStudioNotification"
ICS = base64.b64encode(b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n").decode()


def message(marker: str, to: str = "maria@example.com", **extra) -> dict:
    return {"subject": f"Your appointment {marker}", "body": {"contentType": "HTML", "content": f"<p>{marker}</p>"},
            "toRecipients": [{"emailAddress": {"address": to, "name": "Maria Garcia"}}],
            "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "appointment.ics",
                             "contentType": "text/calendar", "contentBytes": ICS}],
            "singleValueExtendedProperties": [{"id": PROPERTY, "value": marker}], **extra}


def sent_with(sb, marker: str) -> list[dict]:
    return [m for m in sb.mail() if marker in m["subject"]]


def by_property(graph: Graph, folder: str, marker: str, user: str = "me") -> list[dict]:
    expression = f"singleValueExtendedProperties/any(ep: ep/id eq '{PROPERTY}' and ep/value eq '{marker}')"
    r = graph.get(f"{user}/mailFolders/{folder}/messages", params={"$filter": expression, "$select": "id,subject"})
    assert r.status_code == 200, r.text
    return r.json()["value"]


def test_send_mail_is_202_and_lands_in_the_sent_log_with_its_attachment(sb, me_graph):
    marker = str(uuid.uuid4())
    before = sb.stats()["mailSent"]
    r = me_graph.post("me/sendMail", json={"message": message(marker), "saveToSentItems": True})
    assert r.status_code == 202 and r.content == b""
    [sent] = sent_with(sb, marker)
    assert sent["from"] == ADELE.upn and sent["toRecipients"] == ["maria@example.com"]
    assert sent["body"] == {"contentType": "html", "content": f"<p>{marker}</p>"}
    assert sent["sentDateTime"].endswith("Z") and sent["id"]
    [ics] = sent["attachments"]
    assert (ics["name"], ics["contentType"], ics["contentBytes"]) == ("appointment.ics", "text/calendar", ICS)
    assert sb.stats()["mailSent"] == before + 1
    assert len(by_property(me_graph, "sentitems", marker)) == 1


def test_send_mail_without_saving_is_delivered_but_not_in_sent_items(sb, me_graph):
    marker = str(uuid.uuid4())
    assert me_graph.post("me/sendMail", json={"message": message(marker), "saveToSentItems": False}).status_code == 202
    assert len(sent_with(sb, marker)) == 1
    assert by_property(me_graph, "sentitems", marker) == []


def test_draft_then_send_moves_it_from_drafts_to_sent_items_under_a_new_id(sb, app_graph):
    marker, user = str(uuid.uuid4()), f"users/{ADELE.id}"
    r = app_graph.post(f"{user}/messages", json=message(marker))
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["isDraft"] is True and "singleValueExtendedProperties" not in draft
    assert [m["id"] for m in by_property(app_graph, "drafts", marker, user)] == [draft["id"]]
    assert sent_with(sb, marker) == []
    r = app_graph.post(f"{user}/messages/{quote(draft['id'], safe='')}/send")
    assert r.status_code == 202, r.text
    assert by_property(app_graph, "drafts", marker, user) == []
    [copy] = by_property(app_graph, "sentitems", marker, user)
    assert copy["id"] != draft["id"]
    assert len(sent_with(sb, marker)) == 1
    again = app_graph.post(f"{user}/messages/{quote(draft['id'], safe='')}/send")
    assert_graph_error(again, 404, "ErrorItemNotFound")
    assert len(sent_with(sb, marker)) == 1


def test_get_message_shows_extended_properties_only_when_expanded(me_graph):
    marker = str(uuid.uuid4())
    draft = me_graph.post("me/messages", json=message(marker)).json()
    path = f"me/messages/{quote(draft['id'], safe='')}"
    assert "singleValueExtendedProperties" not in me_graph.get(path).json()
    r = me_graph.get(path, params={"$expand": f"singleValueExtendedProperties($filter=id eq '{PROPERTY}')"})
    assert r.json()["singleValueExtendedProperties"] == [{"id": PROPERTY, "value": marker}]


def test_immutable_id_keeps_the_id_when_sent(me_graph):
    marker = str(uuid.uuid4())
    draft = me_graph.post("me/messages", json=message(marker)).json()
    r = me_graph.post(f"me/messages/{quote(draft['id'], safe='')}/send", headers={"Prefer": 'IdType="ImmutableId"'})
    assert r.status_code == 202
    assert [m["id"] for m in by_property(me_graph, "sentitems", marker)] == [draft["id"]]


@pytest.mark.parametrize("to", ["not-an-address", "maria@localhost", "two@@example.com", ""])
def test_invalid_recipient_is_400_error_invalid_recipients_and_nothing_is_sent(sb, me_graph, to):
    marker = str(uuid.uuid4())
    r = me_graph.post("me/sendMail", json={"message": message(marker, to=to)})
    assert_graph_error(r, 400, "ErrorInvalidRecipients")
    assert sent_with(sb, marker) == []


def test_a_draft_with_a_bad_recipient_is_refused_when_sent(sb, me_graph):
    marker = str(uuid.uuid4())
    draft = me_graph.post("me/messages", json=message(marker, to="nobody")).json()
    r = me_graph.post(f"me/messages/{quote(draft['id'], safe='')}/send")
    assert_graph_error(r, 400, "ErrorInvalidRecipients")
    assert len(by_property(me_graph, "drafts", marker)) == 1 and sent_with(sb, marker) == []


def test_no_recipient_is_refused(me_graph):
    r = me_graph.post("me/sendMail", json={"message": {**message("x"), "toRecipients": []}})
    assert_graph_error(r, 400, "ErrorInvalidRecipients", "At least one recipient is required")


def test_unknown_message_property_is_400(me_graph):
    r = me_graph.post("me/sendMail", json={"message": {**message("x"), "colour": "red"}})
    assert_graph_error(r, 400, "BadRequest", "The property 'colour' does not exist on type 'microsoft.graph.message'")


def test_sending_as_someone_else_is_refused(me_graph):
    sender = {"emailAddress": {"address": MEGAN.upn}}
    assert_graph_error(me_graph.post("me/sendMail", json={"message": {**message("x"), "from": sender}}), 403,
                       "ErrorSendAsDenied")


def test_other_filters_are_refused(me_graph):
    r = me_graph.get("me/mailFolders/sentitems/messages", params={"$filter": "subject eq 'x'"})
    assert_graph_error(r, 400, "ErrorInvalidUrlQueryFilter")


def test_permissions_are_exactly_the_references(sb):
    no_mail = Graph(sb, user_token(sb, ADELE, scope=f"{sb.url}/OnlineMeetings.ReadWrite"))
    assert_graph_error(no_mail.post("me/sendMail", json={"message": message("x")}), 403, "Forbidden",
                       "API requires one of 'Mail.Send'")
    assert_graph_error(no_mail.post("me/messages", json=message("x")), 403, "Forbidden", "Mail.ReadWrite")
    assert_graph_error(no_mail.get("me/mailFolders/drafts/messages"), 403, "Forbidden", "Mail.Read")
    send_only = Graph(sb, user_token(sb, ADELE, scope=f"{sb.url}/Mail.Send"))
    assert send_only.post("me/sendMail", json={"message": message(str(uuid.uuid4()))}).status_code == 202
    assert_graph_error(send_only.post("me/messages", json=message("x")), 403, "Forbidden")


def test_mailbox_rules_app_only_me_delegated_other_user_unknown_user(app_graph, me_graph):
    assert_graph_error(app_graph.post("me/sendMail", json={"message": message("x")}), 403, "Forbidden",
                       "only valid with delegated")
    assert_graph_error(me_graph.post(f"users/{MEGAN.id}/sendMail", json={"message": message("x")}), 403,
                       "ErrorAccessDenied")
    assert me_graph.post(f"users/{ADELE.id}/sendMail", json={"message": message(str(uuid.uuid4()))}).status_code == 202
    assert_graph_error(app_graph.post("users/nobody@contoso.onmicrosoft.com/sendMail", json={"message": message("x")}),
                       404, "ErrorInvalidUser")
    assert app_graph.post(f"users/{MEGAN.upn}/sendMail", json={"message": message(str(uuid.uuid4()))}).status_code == 202


def test_beta_serves_mail_too(sb, me_graph):
    marker = str(uuid.uuid4())
    assert me_graph.with_version("beta").post("me/sendMail", json={"message": message(marker)}).status_code == 202
    assert len(sent_with(sb, marker)) == 1


def test_batch_items_reach_mail_routes(sb, app_graph):
    marker = str(uuid.uuid4())
    body = {"requests": [{"id": "1", "method": "POST", "url": f"/users/{ADELE.id}/messages",
                          "headers": {"Content-Type": "application/json"}, "body": message(marker)},
                         {"id": "2", "method": "GET", "url": f"/users/{ADELE.id}/mailFolders/drafts/messages?$filter="
                          f"singleValueExtendedProperties/any(ep: ep/id eq '{PROPERTY}' and ep/value eq '{marker}')",
                          "dependsOn": ["1"]}]}
    r = app_graph.post("$batch", json=body)
    replies = {item["id"]: item for item in r.json()["responses"]}
    assert replies["1"]["status"] == 201 and replies["2"]["status"] == 200
    assert [m["id"] for m in replies["2"]["body"]["value"]] == [replies["1"]["body"]["id"]]


def test_inbox_page_escapes_everything(sb, me_graph):
    marker = str(uuid.uuid4())
    hostile = {**message(marker), "subject": f"<script>alert(1)</script> {marker}",
               "toRecipients": [{"emailAddress": {"address": "eve@example.com", "name": "<img src=x onerror=alert(2)>"}}]}
    assert me_graph.post("me/sendMail", json={"message": hostile}).status_code == 202
    page = sb._http.get(f"{sb.url}/_sandbox/inbox", params={"to": "eve@example.com"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "<iframe sandbox" in page.text and "script-src" not in page.headers["content-security-policy"]
    assert "METHOD:REQUEST" in page.text
