"""onlineMeetings: create, createOrGet, get, filter, update, delete, join link, SMS (§5, §7, §8)."""
from __future__ import annotations

import base64
import re
from urllib.parse import quote

import pytest

from lib.sandbox.directory import TENANT_ID

from .conftest import ADELE, MEGAN, assert_graph_error, create, new_key

pytestmark = pytest.mark.timeout(60)
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
TIME_7 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z")


def test_create_returns_201_with_graph_shaped_ids_urls_and_utc_times(me_graph, sb):
    r = me_graph.post("me/onlineMeetings", json={
        "startDateTime": "2019-07-12T14:30:34.2444915-07:00", "endDateTime": "2019-07-12T15:00:34.2464912-07:00",
        "subject": "User Token Meeting"})
    assert r.status_code == 201
    assert r.headers["content-type"] == JSON_TYPE
    m = r.json()
    assert m["@odata.context"] == f"{sb.url}/v1.0/$metadata#users('{ADELE.id}')/onlineMeetings/$entity"
    assert m["startDateTime"] == "2019-07-12T21:30:34.2444915Z"
    assert m["endDateTime"] == "2019-07-12T22:00:34.2464912Z"
    assert TIME_7.fullmatch(m["creationDateTime"])
    thread = m["chatInfo"]["threadId"]
    r_part = re.fullmatch(r"19:meeting_([A-Za-z0-9_-]+)@thread\.v2", thread).group(1)
    decoded = base64.urlsafe_b64decode(m["id"] + "=" * (-len(m["id"]) % 4)).decode()
    assert decoded == f"1*{ADELE.id}*0**{thread}"
    assert "=" not in m["id"]
    assert m["joinWebUrl"] == (
        f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{r_part}%40thread.v2/0?context=%7b%22Tid%22%3a%22"
        f"{TENANT_ID}%22%2c%22Oid%22%3a%22{ADELE.id}%22%7d")
    assert m["chatInfo"] == {"threadId": thread, "messageId": "0", "replyChainMessageId": None}
    settings = m["joinMeetingIdSettings"]
    assert settings["isPasscodeRequired"] is False and settings["passcode"] is None
    assert settings["joinMeetingId"].isdigit()
    assert m["participants"]["organizer"]["identity"]["user"]["id"] == ADELE.id
    assert m["participants"]["organizer"]["upn"] == ADELE.upn
    assert m["externalId"] is None
    assert m["audioConferencing"] is None and m["joinInformation"] is None and m["videoTeleconferenceId"] is None


def test_plain_post_never_deduplicates(me_graph):
    a = create(me_graph, externalId="same-external-id")
    b = create(me_graph, externalId="same-external-id")
    assert a["id"] != b["id"]


@pytest.mark.parametrize("missing", ["subject", "startDateTime", "endDateTime"])
def test_create_requires_subject_and_both_times(me_graph, missing):
    body = {"subject": "S", "startDateTime": "2030-01-01T10:00:00Z", "endDateTime": "2030-01-01T11:00:00Z"}
    del body[missing]
    assert_graph_error(me_graph.post("me/onlineMeetings", json=body), 400, "BadRequest",
                       f"The {missing} property is required when you create an online meeting.")


@pytest.mark.parametrize("value", ["2024-01-19T13:38:22.169688", "2024-01-19", "2024-01-19T13:38:22+0100",
                                   "2024-01-19T13:38:22.12345678Z", 1705671502, "2024-02-30T10:00:00Z"])
def test_time_without_offset_or_malformed_is_rejected_with_graph_message(me_graph, value):
    r = me_graph.post("me/onlineMeetings", json={"subject": "S", "startDateTime": value,
                                                 "endDateTime": "2030-01-01T11:00:00Z"})
    assert_graph_error(r, 400, "BadRequest",
                       re.escape(f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'."))


def test_short_times_and_offsets_are_accepted(me_graph):
    m = create(me_graph, startDateTime="2030-01-01T10:00+05:30", endDateTime="2030-01-01T10:00:30.5Z")
    assert m["startDateTime"] == "2030-01-01T04:30:00.0000000Z"
    assert m["endDateTime"] == "2030-01-01T10:00:30.5000000Z"


def test_end_not_after_start_is_rejected(me_graph):
    r = me_graph.post("me/onlineMeetings", json={"subject": "S", "startDateTime": "2030-01-01T10:00:00Z",
                                                 "endDateTime": "2030-01-01T10:00:00Z"})
    assert_graph_error(r, 400, "BadRequest", "endDateTime must be later than startDateTime.")


def test_unknown_property_is_rejected_with_odata_message(me_graph):
    r = me_graph.post("me/onlineMeetings", json={"subject": "S", "startDateTime": "2030-01-01T10:00:00Z",
                                                 "endDateTime": "2030-01-01T11:00:00Z", "subjekt": "typo",
                                                 "@odata.type": "#microsoft.graph.onlineMeeting"})
    assert_graph_error(r, 400, "BadRequest", re.escape(
        "The property 'subjekt' does not exist on type 'microsoft.graph.onlineMeeting'. Make sure to only use "
        "property names that are defined by the type."))


def test_unknown_nested_property_is_rejected(me_graph):
    r = me_graph.post("me/onlineMeetings", json={
        "subject": "S", "startDateTime": "2030-01-01T10:00:00Z", "endDateTime": "2030-01-01T11:00:00Z",
        "participants": {"attendees": [{"identity": {"user": {"id": MEGAN.id}}, "email": "x@y.z"}]}})
    assert_graph_error(r, 400, "BadRequest", "'email' does not exist on type 'microsoft.graph.meetingParticipantInfo'")


def test_malformed_json_and_non_object_bodies_are_400(me_graph):
    r = me_graph.post("me/onlineMeetings", data="{not json", headers={"Content-Type": "application/json"})
    assert_graph_error(r, 400, "BadRequest", "Unable to read JSON")
    r = me_graph.post("me/onlineMeetings", data="[1]", headers={"Content-Type": "application/json"})
    assert_graph_error(r, 400, "BadRequest")
    r = me_graph.post("me/onlineMeetings", data="", headers={"Content-Type": "application/json"})
    assert_graph_error(r, 400, "BadRequest", "Empty Payload")


def test_body_that_is_not_json_is_415_and_content_type_parameters_are_fine(me_graph):
    r = me_graph.post("me/onlineMeetings", data='{"subject": "x"}', headers={"Content-Type": "text/plain"})
    assert_graph_error(r, 415, "UnsupportedMediaType")
    r = me_graph.post("me/onlineMeetings", data=b'{"subject": "x"}', headers={"Content-Type": ""})
    assert_graph_error(r, 415, "UnsupportedMediaType")
    r = me_graph.post("me/onlineMeetings/createOrGet", data=f'{{"externalId": "{new_key()}", "subject": "x"}}',
                      headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201


def test_client_request_id_is_echoed_and_request_id_is_always_new(me_graph):
    r1 = me_graph.get("me/onlineMeetings/nope", headers={"client-request-id": "abc-123"})
    r2 = me_graph.get("me/onlineMeetings/nope")
    assert r1.headers["client-request-id"] == "abc-123"
    assert r1.json()["error"]["innerError"]["client-request-id"] == "abc-123"
    assert r1.headers["request-id"] != r2.headers["request-id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", r2.headers["request-id"])


# -- createOrGet ---------------------------------------------------------------------------------
def test_create_or_get_creates_then_returns_the_same_meeting_unchanged(me_graph):
    key = new_key()
    r1 = me_graph.post("me/onlineMeetings/createOrGet", json={"externalId": key, "subject": "First"})
    assert r1.status_code == 201
    r2 = me_graph.post("me/onlineMeetings/createOrGet", json={"externalId": key, "subject": "Second",
                                                             "startDateTime": "2031-01-01T00:00:00Z"})
    assert r2.status_code == 200
    assert r2.json() == r1.json()
    assert r1.json()["externalId"] == key


def test_create_or_get_defaults_times_to_now_plus_one_hour(me_graph):
    m = me_graph.post("me/onlineMeetings/createOrGet", json={"externalId": new_key(), "subject": "Now"}).json()
    assert TIME_7.fullmatch(m["startDateTime"])
    from datetime import datetime
    start = datetime.fromisoformat(m["startDateTime"][:26])
    end = datetime.fromisoformat(m["endDateTime"][:26])
    assert (end - start).total_seconds() == 3600
    m = me_graph.post("me/onlineMeetings/createOrGet", json={
        "externalId": new_key(), "subject": "Start only", "startDateTime": "2030-05-05T09:00:00Z"}).json()
    assert m["endDateTime"] == "2030-05-05T10:00:00.0000000Z"


def test_create_or_get_key_is_per_organizer(me_graph, megan_graph):
    key = new_key()
    a = me_graph.post("me/onlineMeetings/createOrGet", json={"externalId": key, "subject": "A"})
    b = megan_graph.post("me/onlineMeetings/createOrGet", json={"externalId": key, "subject": "B"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_create_or_get_validates_the_whole_body_even_on_a_hit(me_graph):
    key = new_key()
    assert me_graph.post("me/onlineMeetings/createOrGet", json={"externalId": key, "subject": "A"}).status_code == 201
    for body, message in [({"externalId": key}, "subject"),
                          ({"externalId": key, "subject": "A", "startDateTime": "2030-01-01T10:00:00"},
                           "Cannot convert the literal"),
                          ({"externalId": key, "subject": "A", "endDateTime": "2030-01-01T10:00:00Z"},
                           "startDateTime"),
                          ({"externalId": key, "subject": "A", "bogus": 1}, "does not exist on type"),
                          ({"subject": "A"}, "externalId")]:
        assert_graph_error(me_graph.post("me/onlineMeetings/createOrGet", json=body), 400, "BadRequest", message)


def test_app_only_create_or_get_on_users_path(app_graph):
    key = new_key()
    r = app_graph.post(f"users/{ADELE.id.upper()}/onlineMeetings/createOrGet",
                       json={"externalId": key, "subject": "App"})
    assert r.status_code == 201, r.text
    assert r.json()["participants"]["organizer"]["identity"]["user"]["id"] == ADELE.id
    r2 = app_graph.post(f"users/{ADELE.id}/onlineMeetings/createOrGet", json={"externalId": key, "subject": "App"})
    assert r2.status_code == 200 and r2.json()["id"] == r.json()["id"]


# -- get, filter, reach ---------------------------------------------------------------------------
def test_get_by_id_via_me_and_users_path(me_graph, app_graph):
    m = create(me_graph)
    assert me_graph.get(f"me/onlineMeetings/{m['id']}").json()["id"] == m["id"]
    assert me_graph.get(f"users/{ADELE.id}/onlineMeetings/{m['id']}").status_code == 200
    assert app_graph.get(f"users/{ADELE.id}/onlineMeetings/{m['id']}").json()["subject"] == "Visit"


def test_unknown_meeting_upn_and_unknown_user_are_404(me_graph, app_graph):
    assert_graph_error(me_graph.get("me/onlineMeetings/MSpub3RoZXJl"), 404, "NotFound")
    m = create(me_graph)
    assert_graph_error(app_graph.get(f"users/{ADELE.upn}/onlineMeetings/{m['id']}"), 404, "NotFound", "object id")
    assert_graph_error(app_graph.post("users/00000000-0000-0000-0000-000000000000/onlineMeetings/createOrGet",
                                      json={"externalId": "x", "subject": "y"}), 404, "NotFound")


def test_another_organizers_meeting_is_404(me_graph, megan_graph, app_graph):
    m = create(me_graph)
    assert_graph_error(megan_graph.get(f"me/onlineMeetings/{m['id']}"), 404, "NotFound")
    assert_graph_error(app_graph.get(f"users/{MEGAN.id}/onlineMeetings/{m['id']}"), 404, "NotFound")


def test_invited_attendee_may_get_via_me_only(me_graph, megan_graph):
    m = create(me_graph, participants={"attendees": [{"identity": {"user": {"id": MEGAN.id}}, "upn": MEGAN.upn}]})
    assert m["participants"]["attendees"][0]["role"] == "attendee"
    assert megan_graph.get(f"me/onlineMeetings/{m['id']}").status_code == 200
    assert_graph_error(megan_graph.get(f"users/{MEGAN.id}/onlineMeetings/{m['id']}"), 404, "NotFound")
    assert_graph_error(megan_graph.patch(f"me/onlineMeetings/{m['id']}", json={"subject": "x"}), 404, "NotFound")
    assert_graph_error(megan_graph.delete(f"me/onlineMeetings/{m['id']}"), 404, "NotFound")


def test_filter_by_join_web_url_and_join_meeting_id(me_graph, sb):
    m = create(me_graph)
    r = me_graph.get("me/onlineMeetings?$filter=" + quote(f"JoinWebUrl eq '{m['joinWebUrl']}'", safe=""))
    assert r.status_code == 200
    assert r.json()["@odata.context"] == f"{sb.url}/v1.0/$metadata#users('{ADELE.id}')/onlineMeetings"
    assert [x["id"] for x in r.json()["value"]] == [m["id"]]
    join_id = m["joinMeetingIdSettings"]["joinMeetingId"]
    r = me_graph.get("me/onlineMeetings", params={"$filter": f"joinMeetingIdSettings/joinMeetingId eq '{join_id}'"})
    assert [x["id"] for x in r.json()["value"]] == [m["id"]]
    r = me_graph.get("me/onlineMeetings", params={"$filter": "joinweburl eq 'https://nowhere'"})
    assert r.status_code == 200 and r.json()["value"] == []


def test_filter_missing_or_unsupported_is_400(me_graph):
    assert_graph_error(me_graph.get("me/onlineMeetings"), 400, "BadRequest")
    assert_graph_error(me_graph.get("me/onlineMeetings", params={"$filter": "subject eq 'x'"}), 400, "BadRequest")
    assert_graph_error(me_graph.get("me/onlineMeetings", params={"$filter": "JoinWebUrl gt 1"}), 400, "BadRequest")


# -- update and delete ----------------------------------------------------------------------------
def test_patch_returns_200_with_the_full_updated_meeting(me_graph):
    m = create(me_graph)
    r = me_graph.patch(f"me/onlineMeetings/{m['id']}", json={
        "subject": "Moved", "startDateTime": "2030-04-01T09:00:00-05:00", "endDateTime": "2030-04-01T10:00:00-05:00",
        "allowedPresenters": "organizer", "participants": {"attendees": [{"upn": MEGAN.upn}]}})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["subject"] == "Moved" and u["startDateTime"] == "2030-04-01T14:00:00.0000000Z"
    assert u["allowedPresenters"] == "organizer"
    assert u["participants"]["organizer"]["identity"]["user"]["id"] == ADELE.id
    assert u["participants"]["attendees"][0]["upn"] == MEGAN.upn
    assert u["joinWebUrl"] == m["joinWebUrl"]
    assert me_graph.get(f"me/onlineMeetings/{m['id']}").json()["subject"] == "Moved"


@pytest.mark.parametrize("body", [{"startDateTime": "2030-04-01T09:00:00Z"}, {"joinWebUrl": "https://x"},
                                  {"externalId": "x"}, {"id": "x"}, {"chatInfo": {}},
                                  {"joinMeetingIdSettings": {"isPasscodeRequired": True}},
                                  {"participants": {"organizer": {"upn": MEGAN.upn}}},
                                  {"allowedPresenters": "nobody"}, {"nonsense": 1}])
def test_patch_rejects_read_only_fields_and_one_time_alone(me_graph, body):
    m = create(me_graph)
    assert_graph_error(me_graph.patch(f"me/onlineMeetings/{m['id']}", json=body), 400, "BadRequest")
    assert me_graph.get(f"me/onlineMeetings/{m['id']}").json() == m


def test_delete_is_204_then_404(me_graph):
    m = create(me_graph)
    assert me_graph.delete(f"me/onlineMeetings/{m['id']}").status_code == 204
    assert_graph_error(me_graph.get(f"me/onlineMeetings/{m['id']}"), 404, "NotFound")
    assert_graph_error(me_graph.delete(f"me/onlineMeetings/{m['id']}"), 404, "NotFound")


# -- join link ------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["getVirtualAppointmentJoinWebUrl", "getVirtualAppointmentJoinWebUrl()"])
@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_join_link_with_and_without_parentheses(me_graph, sb, suffix, version):
    g = me_graph.with_version(version)
    m = create(g)
    r = g.get(f"me/onlineMeetings/{m['id']}/{suffix}")
    assert r.status_code == 200, r.text
    assert r.json() == {"@odata.context": f"{sb.url}/{version}/$metadata#Edm.String",
                        "value": f"https://visit.teams.microsoft.com/webrtc-svc/api/route?tid={TENANT_ID}"
                                 f"&convId={m['chatInfo']['threadId']}"}
    assert g.get(f"me/onlineMeetings/{m['id']}/{suffix}").json() == r.json()


def test_join_link_for_unknown_meeting_is_404(me_graph):
    assert_graph_error(me_graph.get("me/onlineMeetings/MSpub3Q/getVirtualAppointmentJoinWebUrl"), 404, "NotFound")


# -- SMS -------------------------------------------------------------------------------------------
def test_sms_and_reminder_are_202_with_empty_body_and_count_recipients(me_graph, sb):
    m = create(me_graph)
    before = sb.stats()["smsSent"]
    r = me_graph.post(f"me/onlineMeetings/{m['id']}/sendVirtualAppointmentSms", json={
        "attendees": [{"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"},
                      {"phoneNumber": "+12065550123", "timeZone": "Eastern Standard Time"}],
        "messageType": "confirmation"})
    assert r.status_code == 202 and r.content == b""
    r = me_graph.post(f"me/onlineMeetings/{m['id']}/sendVirtualAppointmentReminderSms", json={
        "attendees": [{"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}],
        "remindBeforeTimeInMinutesType": "mins15"})
    assert r.status_code == 202 and r.content == b""
    assert sb.stats()["smsSent"] == before + 3


@pytest.mark.parametrize("attendee,extra", [
    ({"phoneNumber": "+1242421412", "timeZone": "Pacific Standard Time"}, {}),
    ({"phoneNumber": "+443129224122", "timeZone": "Pacific Standard Time"}, {}),
    ({"phoneNumber": "+13129224122", "timeZone": "America/Los_Angeles"}, {}),
    ({"phoneNumber": "+13129224122"}, {}),
    ({"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time", "name": "x"}, {}),
    ({"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}, {"messageType": ["confirmation"]}),
    ({"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}, {"messageType": "unknownFutureValue"}),
    ({"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}, {"messageType": None}),
    ({"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}, {"extra": 1}),
])
def test_sms_validation(me_graph, sb, attendee, extra):
    m = create(me_graph)
    before = sb.stats()["smsSent"]
    body = {"attendees": [{"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}, attendee],
            "messageType": "reschedule", **extra}
    assert_graph_error(me_graph.post(f"me/onlineMeetings/{m['id']}/sendVirtualAppointmentSms", json=body),
                       400, "BadRequest")
    assert sb.stats()["smsSent"] == before


def test_reminder_accepts_only_mins15(me_graph):
    m = create(me_graph)
    body = {"attendees": [{"phoneNumber": "+13129224122", "timeZone": "UTC"}], "remindBeforeTimeInMinutesType": "mins30"}
    assert_graph_error(me_graph.post(f"me/onlineMeetings/{m['id']}/sendVirtualAppointmentReminderSms", json=body),
                       400, "BadRequest")


def test_sms_for_unknown_meeting_is_404_before_body_checks(me_graph):
    r = me_graph.post("me/onlineMeetings/MSpub3Q/sendVirtualAppointmentSms", data="nonsense",
                      headers={"Content-Type": "text/plain"})
    assert_graph_error(r, 404, "NotFound")


# -- paths ------------------------------------------------------------------------------------------
def test_singular_online_meeting_is_an_unknown_segment(me_graph):
    assert_graph_error(me_graph.post("me/onlineMeeting", json={}), 400, "BadRequest",
                       re.escape("Resource not found for the segment 'onlineMeeting'."))
    g = me_graph.with_version("beta")
    m = create(g)
    assert_graph_error(g.put(f"me/onlineMeeting/{m['id']}/virtualAppointment", json={}), 400, "BadRequest",
                       "segment 'onlineMeeting'")


def test_virtual_appointment_under_v1_is_an_unknown_segment(me_graph):
    m = create(me_graph)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        r = me_graph.request(method, f"me/onlineMeetings/{m['id']}/virtualAppointment", json={})
        assert_graph_error(r, 400, "BadRequest", re.escape("Resource not found for the segment 'virtualAppointment'."))


def test_wrong_method_is_405(me_graph):
    m = create(me_graph)
    assert_graph_error(me_graph.post(f"me/onlineMeetings/{m['id']}/getVirtualAppointmentJoinWebUrl", json={}),
                       405, "MethodNotAllowed")
    assert_graph_error(me_graph.get("me/onlineMeetings/createOrGet/x"), 400, "BadRequest")


def test_get_user_by_upn_or_id_with_select(app_graph, me_graph, sb):
    r = app_graph.get(f"users/{ADELE.upn}", params={"$select": "id"})
    assert r.status_code == 200
    assert r.json() == {"@odata.context": f"{sb.url}/v1.0/$metadata#users(id)/$entity", "id": ADELE.id}
    full = app_graph.get(f"users/{MEGAN.id}").json()
    assert full["userPrincipalName"] == MEGAN.upn and full["displayName"] == MEGAN.display_name
    assert_graph_error(app_graph.get("users/nobody@contoso.onmicrosoft.com"), 404, "NotFound")
    assert_graph_error(app_graph.get(f"users/{ADELE.id}", params={"$select": "shoeSize"}), 400, "BadRequest")
    assert me_graph.get("me").json()["id"] == ADELE.id
    assert me_graph.get(f"users/{ADELE.upn}").status_code == 200
    assert_graph_error(me_graph.get(f"users/{MEGAN.id}"), 403, "Forbidden")
