"""Token checks on Graph calls (401) and the permission rules of §4 (403)."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lib.sandbox.directory import CONFIDENTIAL_APP, PUBLIC_APP, TENANT_ID

from .conftest import ADELE, LEE, MEGAN, Graph, assert_graph_error, create, new_key, user_token

pytestmark = pytest.mark.timeout(60)


def _claims(sb, **over):
    now = int(time.time())
    claims = {"aud": sb.url, "iss": f"{sb.url}/{TENANT_ID}/v2.0", "iat": now, "nbf": now, "exp": now + 3600,
              "tid": TENANT_ID, "oid": ADELE.id, "appid": PUBLIC_APP.client_id, "scp": "OnlineMeetings.ReadWrite",
              "jti": uuid.uuid4().hex}
    claims.update(over)
    return claims


def _sandbox_key(sb):
    return serialization.load_pem_private_key((Path(sb.data_dir) / "signing-key.pem").read_bytes(), None)


def _call(sb, token):
    return Graph(sb, token).post("me/onlineMeetings/createOrGet", json={"externalId": new_key(), "subject": "x"})


def test_missing_token_is_401(sb):
    assert_graph_error(_call(sb, None), 401, "InvalidAuthenticationToken", "empty")


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "Basic abc", "Bearer a.b.c"])
def test_malformed_token_is_401(sb, header):
    r = Graph(sb, None).get("me/onlineMeetings/x", headers={"Authorization": header})
    assert_graph_error(r, 401, "InvalidAuthenticationToken")


def test_expired_token_is_401(sb):
    token = jwt.encode(_claims(sb, iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200,
                              exp=int(time.time()) - 60), _sandbox_key(sb), algorithm="RS256")
    assert_graph_error(_call(sb, token), 401, "InvalidAuthenticationToken", "expired")


def test_foreign_token_signed_by_another_key_is_401(sb):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(sb), other, algorithm="RS256")
    assert_graph_error(_call(sb, token), 401, "InvalidAuthenticationToken", "foreign")


def test_token_for_another_audience_is_401(sb):
    token = jwt.encode(_claims(sb, aud="https://graph.microsoft.com"), _sandbox_key(sb), algorithm="RS256")
    assert_graph_error(_call(sb, token), 401, "InvalidAuthenticationToken", "audience")


def test_well_signed_token_never_issued_by_the_sandbox_is_401(sb):
    token = jwt.encode(_claims(sb), _sandbox_key(sb), algorithm="RS256")
    assert_graph_error(_call(sb, token), 401, "InvalidAuthenticationToken", "not issued")


def test_401_comes_before_unknown_segments_and_rate_limits(sb, clean_faults):
    sb.configure(rate_limit=1, faults="503=1")
    for _ in range(3):
        assert_graph_error(Graph(sb, None).get("me/onlineMeeting"), 401, "InvalidAuthenticationToken")


def test_app_only_on_me_is_403(app_graph):
    assert_graph_error(app_graph.post("me/onlineMeetings/createOrGet", json={"externalId": "a", "subject": "b"}),
                       403, "Forbidden", "/me request is only valid with delegated authentication flow.")


def test_delegated_on_another_users_path_is_403_general(me_graph):
    r = me_graph.post(f"users/{MEGAN.id}/onlineMeetings/createOrGet", json={"externalId": "a", "subject": "b"})
    assert_graph_error(r, 403, "General",
                       fr"Organizer ID in token\({ADELE.id}\) does not match organizer ID in request "
                       fr"url\({MEGAN.id}\)\. With delegated permission only /me endpoint is supported\.")


def test_delegated_on_own_users_path_works(me_graph):
    r = me_graph.post(f"users/{ADELE.id}/onlineMeetings/createOrGet", json={"externalId": new_key(), "subject": "b"})
    assert r.status_code == 201


def test_missing_application_access_policy_is_403_general(sb, app_graph):
    sb.configure(access_policy={LEE.id: False})
    try:
        r = app_graph.post(f"users/{LEE.id}/onlineMeetings/createOrGet", json={"externalId": "a", "subject": "b"})
        assert_graph_error(r, 403, "General", "No application access policy found for this app.")
    finally:
        sb.configure(access_policy={LEE.id: True})
    r = app_graph.post(f"users/{LEE.id}/onlineMeetings/createOrGet", json={"externalId": new_key(), "subject": "b"})
    assert r.status_code == 201


def test_delegated_token_without_the_permission_is_403(sb):
    g = Graph(sb, user_token(sb, ADELE, scope=f"{sb.url}/User.Read"))
    assert g.get("me").status_code == 200
    r = g.post("me/onlineMeetings/createOrGet", json={"externalId": "a", "subject": "b"})
    assert_graph_error(r, 403, "Forbidden", "Missing scope permissions on the request. API requires one of "
                                            "'OnlineMeetings.ReadWrite'. Scopes on the request 'User.Read'.")


def test_read_only_scope_can_get_but_not_write(sb, me_graph):
    m = create(me_graph)
    g = Graph(sb, user_token(sb, ADELE, scope=f"{sb.url}/VirtualAppointment.Read"))
    assert g.get(f"me/onlineMeetings/{m['id']}/getVirtualAppointmentJoinWebUrl").status_code == 200
    assert_graph_error(g.get(f"me/onlineMeetings/{m['id']}"), 403, "Forbidden")
    assert_graph_error(g.post(f"me/onlineMeetings/{m['id']}/sendVirtualAppointmentSms", json={}), 403, "Forbidden")


def test_join_link_and_sms_are_delegated_only(app_graph, me_graph):
    m = create(me_graph)
    base = f"users/{ADELE.id}/onlineMeetings/{m['id']}"
    assert_graph_error(app_graph.get(f"{base}/getVirtualAppointmentJoinWebUrl"), 403, "Forbidden", "delegated")
    sms = {"attendees": [{"phoneNumber": "+13129224122", "timeZone": "UTC"}], "messageType": "confirmation"}
    assert_graph_error(app_graph.post(f"{base}/sendVirtualAppointmentSms", json=sms), 403, "Forbidden")
    assert_graph_error(app_graph.post(f"{base}/sendVirtualAppointmentReminderSms", json=sms), 403, "Forbidden")


def test_403_comes_before_404(me_graph, app_graph):
    assert_graph_error(app_graph.get("me/onlineMeetings/doesnotexist"), 403, "Forbidden")
    assert_graph_error(me_graph.get(f"users/{MEGAN.id}/onlineMeetings/doesnotexist"), 403, "General")


def test_app_only_user_lookup_needs_user_read_all_and_confidential_app_holds_it(app_graph):
    assert app_graph.get(f"users/{LEE.upn}", params={"$select": "id,displayName"}).json()["id"] == LEE.id
    assert {"OnlineMeetings.ReadWrite.All", "User.Read.All"} <= set(CONFIDENTIAL_APP.roles)
