"""The beta virtualAppointment: PUT upsert, GET unwrapped, PATCH merge, DELETE, ETags, validation (§6)."""
from __future__ import annotations

import re
import tempfile

import pytest

from lib.sandbox import start_sandbox_process
from lib.sandbox.directory import TENANT_ID

from .conftest import ADELE, Graph, app_token, assert_graph_error, create

pytestmark = pytest.mark.timeout(60)
ETAG = re.compile(r'W/"[^"]+"')
DOC_BODY = {"settings": {"allowClientToJoinUsingBrowser": "true"},
            "appointmentClients": [{"emailAddress": "gradya@contoso.com", "displayName": "Grady Archie",
                                    "smsCapablePhoneNumber": "+13129224122"}],
            "externalAppointmentId": "AAMkADKnAAA=",
            "externalAppointmentUrl": "https://anyschedulingsystem.com/api/appointments/MkADKnAAA="}


@pytest.fixture
def beta(me_graph):
    return me_graph.with_version("beta")


@pytest.fixture
def meeting(beta):
    return create(beta)


def _va(meeting):
    return f"me/onlineMeetings/{meeting['id']}/virtualAppointment"


def test_put_creates_201_then_replaces_200_keeping_id_and_join_url(beta, meeting, sb):
    r = beta.put(_va(meeting), json=DOC_BODY, headers={"ETag": "ignored"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert ETAG.fullmatch(r.headers["ETag"])
    assert first["@odata.type"] == "#microsoft.graph.virtualAppointment"
    assert first["@odata.context"] == (f"{sb.url}/beta/$metadata#users('{ADELE.id}')/onlineMeetings('{meeting['id']}')"
                                       "/virtualAppointment/$entity")
    assert first["settings"] == {"allowClientToJoinUsingBrowser": True}
    assert first["appointmentClients"] == DOC_BODY["appointmentClients"]
    assert first["appointmentClientJoinWebUrl"] == (f"https://visit.teams.microsoft.com/webrtc-svc/api/route?"
                                                    f"tid={TENANT_ID}&convId={meeting['chatInfo']['threadId']}")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", first["id"])
    r2 = beta.put(_va(meeting), json={"externalAppointmentId": "other", "id": "client-id-ignored"})
    assert r2.status_code == 200
    second = r2.json()
    assert second["id"] == first["id"] and second["appointmentClientJoinWebUrl"] == first["appointmentClientJoinWebUrl"]
    assert second["externalAppointmentId"] == "other"
    assert second["settings"] is None and second["appointmentClients"] == [] and second["externalAppointmentUrl"] is None
    assert r2.headers["ETag"] != r.headers["ETag"]


def test_get_returns_the_entity_unwrapped_with_etag(beta, meeting):
    put = beta.put(_va(meeting), json=DOC_BODY)
    r = beta.get(_va(meeting))
    assert r.status_code == 200
    assert "value" not in r.json()
    assert r.json() == put.json() and r.headers["ETag"] == put.headers["ETag"]


def test_get_patch_delete_without_appointment_are_404(beta, meeting):
    assert_graph_error(beta.get(_va(meeting)), 404, "NotFound")
    assert_graph_error(beta.patch(_va(meeting), json={}), 404, "NotFound")
    assert_graph_error(beta.delete(_va(meeting)), 404, "NotFound")


def test_put_on_unknown_meeting_is_404(beta):
    assert_graph_error(beta.put("me/onlineMeetings/MSpub3Q/virtualAppointment", json=DOC_BODY), 404, "NotFound")


def test_patch_is_204_merges_settings_and_replaces_clients(beta, meeting):
    etag = beta.put(_va(meeting), json=DOC_BODY).headers["ETag"]
    r = beta.patch(_va(meeting), json={"appointmentClients": [{"displayName": "New", "emailAddress": "n@x.org"}],
                                       "settings": {}}, headers={"If-Match": etag})
    assert r.status_code == 204 and r.content == b""
    assert ETAG.fullmatch(r.headers["ETag"]) and r.headers["ETag"] != etag
    got = beta.get(_va(meeting)).json()
    assert got["settings"] == {"allowClientToJoinUsingBrowser": True}
    assert got["appointmentClients"] == [{"displayName": "New", "emailAddress": "n@x.org",
                                          "smsCapablePhoneNumber": None}]
    assert got["externalAppointmentId"] == DOC_BODY["externalAppointmentId"]
    beta.patch(_va(meeting), json={"settings": {"allowClientToJoinUsingBrowser": False}})
    assert beta.get(_va(meeting)).json()["settings"] == {"allowClientToJoinUsingBrowser": False}


def test_if_match_mismatch_is_412_and_changes_nothing(beta, meeting):
    etag = beta.put(_va(meeting), json=DOC_BODY).headers["ETag"]
    assert_graph_error(beta.patch(_va(meeting), json={"externalAppointmentId": "x"},
                                  headers={"If-Match": 'W/"stale"'}), 412, "PreconditionFailed")
    assert_graph_error(beta.put(_va(meeting), json={}, headers={"If-Match": '"stale", W/"other"'}),
                       412, "PreconditionFailed")
    assert_graph_error(beta.delete(_va(meeting), headers={"If-Match": 'W/"stale"'}), 412, "PreconditionFailed")
    r = beta.get(_va(meeting))
    assert r.headers["ETag"] == etag and r.json()["externalAppointmentId"] == DOC_BODY["externalAppointmentId"]


def test_if_match_star_list_and_strong_form_match_weakly(beta, meeting):
    etag = beta.put(_va(meeting), json=DOC_BODY).headers["ETag"]
    strong = etag[2:]
    assert beta.patch(_va(meeting), json={}, headers={"If-Match": f'W/"x", {strong}'}).status_code == 204
    assert beta.patch(_va(meeting), json={}, headers={"If-Match": "*"}).status_code == 204
    etag = beta.get(_va(meeting)).headers["ETag"]
    assert beta.delete(_va(meeting), headers={"If-Match": etag}).status_code == 204
    assert_graph_error(beta.get(_va(meeting)), 404, "NotFound")
    assert_graph_error(beta.put(_va(meeting), json={}, headers={"If-Match": "*"}), 412, "PreconditionFailed")


def test_unquoted_if_match_is_400_malformed_entity_tag(beta, meeting):
    beta.put(_va(meeting), json=DOC_BODY)
    err = assert_graph_error(beta.patch(_va(meeting), json={}, headers={"If-Match": "abc"}), 400, "BadRequest")
    assert err["innerError"]["code"] == "malformedEntityTag"


def test_404_comes_before_412(beta):
    r = beta.patch("me/onlineMeetings/MSpub3Q/virtualAppointment", json={}, headers={"If-Match": 'W/"x"'})
    assert_graph_error(r, 404, "NotFound")


@pytest.mark.parametrize("body", [
    {"settings": {"allowClientToJoinUsingBrowser": "yes"}},
    {"settings": {"allowClientToJoinUsingBrowser": "True"}},
    {"settings": {"allowClientToJoinUsingBrowser": 1}},
    {"settings": {"allowBrowser": True}},
    {"appointmentClients": [{"emailAddress": "Grady Archie", "displayName": "gradya@contoso.com"}]},
    {"appointmentClients": [{"emailAddress": "a@b"}]},
    {"appointmentClients": [{"smsCapablePhoneNumber": "12345"}]},
    {"appointmentClients": [{"smsCapablePhoneNumber": "+1 (312) 922-41x2"}]},
    {"appointmentClients": [{"phone": "+13129224122"}]},
    {"appointmentClients": {"displayName": "x"}},
    {"externalAppointmentId": 5},
    {"notAProperty": 1},
])
def test_invalid_appointment_bodies_are_400_and_store_nothing(beta, meeting, body):
    assert_graph_error(beta.put(_va(meeting), json=body), 400, "BadRequest")
    assert_graph_error(beta.get(_va(meeting)), 404, "NotFound")


def test_booleans_phone_formats_and_null_settings_are_accepted(beta, meeting):
    r = beta.put(_va(meeting), json={"settings": {"allowClientToJoinUsingBrowser": "false"},
                                     "appointmentClients": [{"smsCapablePhoneNumber": "123-456-7890"},
                                                            {"smsCapablePhoneNumber": "+44 (20) 7946.0958"}]})
    assert r.status_code == 201, r.text
    assert r.json()["settings"] == {"allowClientToJoinUsingBrowser": False}
    r = beta.put(_va(meeting), json={"settings": {}})
    assert r.json()["settings"] == {"allowClientToJoinUsingBrowser": None}


def test_415_and_malformed_json_on_put(beta, meeting):
    assert_graph_error(beta.put(_va(meeting), data="x", headers={"Content-Type": "text/plain"}), 415,
                       "UnsupportedMediaType")
    assert_graph_error(beta.put(_va(meeting), data="{", headers={"Content-Type": "application/json"}), 400,
                       "BadRequest")


def test_app_only_can_run_the_beta_flow(sb, app_graph):
    g = app_graph.with_version("beta")
    m = create(g, f"users/{ADELE.id}/onlineMeetings")
    r = g.put(f"users/{ADELE.id}/onlineMeetings/{m['id']}/virtualAppointment", json=DOC_BODY)
    assert r.status_code == 201


def test_deleting_the_meeting_removes_its_appointment(beta, meeting, sb):
    beta.put(_va(meeting), json=DOC_BODY)
    assert beta.delete(f"me/onlineMeetings/{meeting['id']}").status_code == 204
    assert meeting["id"] not in [m["id"] for m in sb.meetings()]


def test_inspection_shows_the_appointment(beta, meeting, sb):
    appointment = beta.put(_va(meeting), json=DOC_BODY).json()
    [row] = [m for m in sb.meetings() if m["id"] == meeting["id"]]
    assert row["virtualAppointment"]["id"] == appointment["id"]
    assert row["organizerId"] == ADELE.id and row["joinWebUrl"] == meeting["joinWebUrl"]
    assert {"id", "externalId", "organizerId", "subject", "startDateTime", "endDateTime", "joinWebUrl",
            "virtualAppointment"} <= set(row)


@pytest.mark.timeout(60)
def test_first_put_in_a_tenant_gets_409_while_provisioning_when_enabled():
    with tempfile.TemporaryDirectory() as tmp, \
            start_sandbox_process(tmp, env={"SANDBOX_PROVISIONING_SECONDS": "2"}) as sb:
        g = Graph(sb, app_token(sb), "beta")
        m = create(g, f"users/{ADELE.id}/onlineMeetings")
        path = f"users/{ADELE.id}/onlineMeetings/{m['id']}/virtualAppointment"
        r = g.put(path, json=DOC_BODY)
        assert_graph_error(r, 409, "Conflict")
        assert 1 <= int(r.headers["Retry-After"]) <= 2
        assert_graph_error(g.put(path, json={"bad": 1}), 400, "BadRequest")   # body 400 comes before 409
        assert_graph_error(g.get(path), 404, "NotFound")
        import time
        time.sleep(int(r.headers["Retry-After"]) + 0.2)
        assert g.put(path, json=DOC_BODY).status_code == 201
        assert sb.stats()["virtualAppointments"] == 1
