"""Calendar events (§15): transactionId idempotency, get, list, patch, delete, /_sandbox/events, stats."""
from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from .conftest import ADELE, assert_graph_error

pytestmark = pytest.mark.timeout(60)
LINK = "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=x&convId=19:meeting_y@thread.v2"


def event(transaction_id: str | None = None, **extra) -> dict:
    body = {"subject": "Consultation", "body": {"contentType": "HTML", "content": f"<a href='{LINK}'>Join</a>"},
            "start": {"dateTime": "2030-05-01T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2030-05-01T09:30:00", "timeZone": "Europe/Berlin"},
            "location": {"displayName": LINK}, "isOnlineMeeting": False, **extra}
    if transaction_id:
        body["transactionId"] = transaction_id
    return body


def test_transaction_id_makes_a_retried_create_return_the_same_event(sb, app_graph):
    tx, path = str(uuid.uuid4()), f"users/{ADELE.id}/events"
    before = sb.stats()["events"]
    first = app_graph.post(path, json=event(tx))
    assert first.status_code == 201, first.text
    again = app_graph.post(path, json=event(tx, subject="Changed"))
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.json()["subject"] == "Consultation"
    assert sb.stats()["events"] == before + 1
    stored = [e for e in sb.events() if e["transactionId"] == tx]
    assert len(stored) == 1 and stored[0]["isOnlineMeeting"] is False and stored[0]["onlineMeeting"] is None
    assert stored[0]["start"] == {"dateTime": "2030-05-01T09:00:00.0000000", "timeZone": "Europe/Berlin"}


def test_get_list_patch_delete(me_graph):
    created = me_graph.post("me/events", json=event(str(uuid.uuid4()))).json()
    path = f"me/events/{quote(created['id'], safe='')}"
    assert me_graph.get(path).json()["location"]["displayName"] == LINK
    listed = me_graph.get("me/events", params={"$top": "1000"}).json()["value"]
    assert created["id"] in [e["id"] for e in listed]
    r = me_graph.patch(path, json={"start": {"dateTime": "2030-05-01T10:00:00", "timeZone": "Europe/Berlin"},
                                   "end": {"dateTime": "2030-05-01T10:30:00", "timeZone": "Europe/Berlin"}})
    assert r.status_code == 200 and r.json()["start"]["dateTime"] == "2030-05-01T10:00:00.0000000"
    assert_graph_error(me_graph.patch(path, json={"end": {"dateTime": "2030-05-01T09:00:00",
                                                          "timeZone": "Europe/Berlin"}}), 400, "BadRequest")
    assert me_graph.delete(path).status_code == 204
    assert_graph_error(me_graph.get(path), 404, "ErrorItemNotFound")
    assert_graph_error(me_graph.delete(path), 404, "ErrorItemNotFound")


def test_times_need_a_local_time_and_a_known_zone(me_graph):
    bad_offset = event(start={"dateTime": "2030-05-01T09:00:00+02:00", "timeZone": "Europe/Berlin"})
    assert_graph_error(me_graph.post("me/events", json=bad_offset), 400, "BadRequest", "no offset")
    bad_zone = event(start={"dateTime": "2030-05-01T09:00:00", "timeZone": "Mars/Olympus"})
    assert_graph_error(me_graph.post("me/events", json=bad_zone), 400, "BadRequest", "not a time zone")
    assert_graph_error(me_graph.post("me/events", json={"subject": "x"}), 400, "BadRequest", "start")


def test_attendees_are_invited_and_told_of_a_cancellation(sb, me_graph):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    created = me_graph.post("me/events", json=event(attendees=[{"emailAddress": {"address": address, "name": "Maria"},
                                                                  "type": "required"}])).json()
    assert me_graph.delete(f"me/events/{quote(created['id'], safe='')}").status_code == 204
    kinds = [m["meetingMessageType"] for m in sb.mail() if address in m["toRecipients"]]
    assert kinds == ["meetingRequest", "meetingCancelled"]


def test_events_need_calendars_permission(sb):
    from .conftest import Graph, user_token

    g = Graph(sb, user_token(sb, ADELE, scope=f"{sb.url}/Mail.Send"))
    assert_graph_error(g.post("me/events", json=event()), 403, "Forbidden", "Calendars.ReadWrite")


def test_sent_mail_drafts_and_events_survive_a_restart(tmp_path):
    from lib.sandbox import start_sandbox_process

    from .conftest import Graph, app_token
    from .test_mail import by_property, message

    with start_sandbox_process(tmp_path) as sb:
        g = Graph(sb, app_token(sb))
        user = f"users/{ADELE.id}"
        assert g.post(f"{user}/sendMail", json={"message": message("kept")}).status_code == 202
        assert g.post(f"{user}/messages", json=message("draft")).status_code == 201
        tx = str(uuid.uuid4())
        created = g.post(f"{user}/events", json=event(tx)).json()
    with start_sandbox_process(tmp_path) as sb:
        g = Graph(sb, app_token(sb))
        assert (sb.stats()["mailSent"], sb.stats()["events"]) == (1, 1)
        assert [m["subject"] for m in sb.mail()] == ["Your appointment kept"]
        assert len(by_property(g, "drafts", "draft", user)) == 1
        assert g.post(f"{user}/events", json=event(tx)).json()["id"] == created["id"]


def test_the_default_calendar_path_reaches_the_same_events(me_graph):
    created = me_graph.post("me/calendar/events", json=event(str(uuid.uuid4()))).json()
    assert me_graph.get(f"me/events/{quote(created['id'], safe='')}").status_code == 200
    assert me_graph.get(f"me/calendar/events/{quote(created['id'], safe='')}").status_code == 200
    assert_graph_error(me_graph.get("me/calendar/nothing"), 400, "BadRequest", "segment 'nothing'")
