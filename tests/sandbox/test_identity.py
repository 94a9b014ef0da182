"""The identity platform: discovery, tokens, device code (with and without auto-approve), real MSAL."""
from __future__ import annotations

import base64
import json
import time

import jwt
import msal
import pytest

from lib.sandbox.directory import CONFIDENTIAL_APP, PUBLIC_APP, TENANT_ID

from .conftest import ADELE, DEVICE_CODE_GRANT, LEE, Graph, http

pytestmark = pytest.mark.timeout(60)


def _token_url(sb, tenant=TENANT_ID):
    return f"{sb.url}/{tenant}/oauth2/v2.0/token"


def _client_credentials(sb, **over):
    data = {"grant_type": "client_credentials", "client_id": CONFIDENTIAL_APP.client_id,
            "client_secret": CONFIDENTIAL_APP.secret, "scope": f"{sb.url}/.default", **over}
    return http(sb.ca_path).post(_token_url(sb), data=data)


def _assert_oauth_error(r, status, error, aadsts=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error
    assert body["error_description"].startswith("AADSTS")
    assert isinstance(body["error_codes"], list) and body["error_codes"]
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert body[key]
    if aadsts:
        assert body["error_codes"] == [aadsts]
    return body


@pytest.mark.parametrize("tenant", [TENANT_ID, "organizations", "common"])
def test_openid_configuration_lists_the_endpoints(sb, tenant):
    doc = http(sb.ca_path).get(f"{sb.url}/{tenant}/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == f"{sb.url}/{tenant}/oauth2/v2.0/token"
    assert doc["device_authorization_endpoint"] == f"{sb.url}/{tenant}/oauth2/v2.0/devicecode"
    assert doc["authorization_endpoint"] == f"{sb.url}/{tenant}/oauth2/v2.0/authorize"
    assert doc["jwks_uri"] == f"{sb.url}/{tenant}/discovery/v2.0/keys"
    if tenant == TENANT_ID:
        assert doc["issuer"] == f"{sb.url}/{TENANT_ID}/v2.0"


def test_unknown_tenant_is_400(sb):
    r = http(sb.ca_path).get(f"{sb.url}/not-a-tenant/v2.0/.well-known/openid-configuration")
    _assert_oauth_error(r, 400, "invalid_request", 90002)


def test_client_credentials_token_has_entra_claims_and_verifies_with_jwks(sb):
    r = _client_credentials(sb)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] >= 3600
    jwks = http(sb.ca_path).get(f"{sb.url}/{TENANT_ID}/discovery/v2.0/keys").json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(body["access_token"], key, algorithms=["RS256"], audience=sb.url,
                        issuer=f"{sb.url}/{TENANT_ID}/v2.0")
    assert claims["tid"] == TENANT_ID and claims["appid"] == claims["azp"] == CONFIDENTIAL_APP.client_id
    assert claims["roles"] == ["OnlineMeetings.ReadWrite.All", "User.Read.All", "Mail.Send", "Mail.ReadWrite",
                              "Calendars.ReadWrite"] and "scp" not in claims
    assert claims["exp"] - claims["iat"] >= 3600 and claims["nbf"] <= claims["iat"] and claims["jti"] and claims["oid"]


def test_client_credentials_with_basic_auth(sb):
    s = http(sb.ca_path)
    r = s.post(_token_url(sb), auth=(CONFIDENTIAL_APP.client_id, CONFIDENTIAL_APP.secret),
               data={"grant_type": "client_credentials", "scope": f"{sb.url}/.default"})
    assert r.status_code == 200


def test_wrong_secret_is_401_invalid_client(sb):
    _assert_oauth_error(_client_credentials(sb, client_secret="nope"), 401, "invalid_client", 7000215)


def test_unknown_client_is_400(sb):
    _assert_oauth_error(_client_credentials(sb, client_id="11111111-1111-1111-1111-111111111111"), 400,
                        "unauthorized_client", 700016)


@pytest.mark.parametrize("scope", ["https://graph.microsoft.com/.default", "OnlineMeetings.ReadWrite.All",
                                   "api://something/.default"])
def test_token_for_another_resource_is_invalid_resource(sb, scope):
    _assert_oauth_error(_client_credentials(sb, scope=scope), 400, "invalid_resource", 500011)


def test_client_credentials_need_dot_default(sb):
    _assert_oauth_error(_client_credentials(sb, scope=f"{sb.url}/OnlineMeetings.ReadWrite.All"), 400,
                        "invalid_scope")


def test_unsupported_grant_is_400(sb):
    _assert_oauth_error(_client_credentials(sb, grant_type="password"), 400, "unsupported_grant_type")


def _device_code(sb, scope=None):
    r = http(sb.ca_path).post(f"{sb.url}/{TENANT_ID}/oauth2/v2.0/devicecode",
                              data={"client_id": PUBLIC_APP.client_id, "scope": scope or f"{sb.url}/.default openid"})
    assert r.status_code == 200, r.text
    return r.json()


def _poll(sb, flow):
    return http(sb.ca_path).post(_token_url(sb), data={"grant_type": DEVICE_CODE_GRANT,
                                                       "client_id": PUBLIC_APP.client_id,
                                                       "device_code": flow["device_code"]})


def test_device_code_is_pending_until_approved_on_the_page(sb):
    sb.configure(auto_approve=False)
    try:
        flow = _device_code(sb)
        assert flow["verification_uri"] == f"{sb.url}/devicelogin"
        assert flow["user_code"] in flow["message"] and flow["interval"] >= 1 and flow["expires_in"] >= 300
        _assert_oauth_error(_poll(sb, flow), 400, "authorization_pending", 70016)
        page = http(sb.ca_path).get(flow["verification_uri"])
        assert page.status_code == 200 and "<form" in page.text
        bad = http(sb.ca_path).post(flow["verification_uri"], data={"code": "WRONGCODE", "decision": "approve"})
        assert bad.status_code == 400
        ok = http(sb.ca_path).post(flow["verification_uri"], data={"code": flow["user_code"].lower(),
                                                                   "decision": "approve"})
        assert ok.status_code == 200 and ADELE.display_name in ok.text
    finally:
        sb.configure(auto_approve=True)
    r = _poll(sb, flow)
    assert r.status_code == 200, r.text
    body = r.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["oid"] == ADELE.id and claims["aud"] == sb.url and "roles" not in claims
    assert set(claims["scp"].split()) == set(PUBLIC_APP.delegated)
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_token["aud"] == PUBLIC_APP.client_id and id_token["preferred_username"] == ADELE.upn
    assert {"iss", "oid", "tid", "sub", "name", "exp", "iat"} <= set(id_token)
    info = json.loads(base64.urlsafe_b64decode(body["client_info"] + "=="))
    assert info == {"uid": ADELE.id, "utid": TENANT_ID}
    assert body["refresh_token"]
    _assert_oauth_error(_poll(sb, flow), 400, "invalid_grant")


def test_device_code_denied_on_the_page_is_access_denied(sb):
    sb.configure(auto_approve=False)
    try:
        flow = _device_code(sb)
        page = http(sb.ca_path).post(f"{sb.url}/devicelogin", data={"code": flow["user_code"], "decision": "deny"})
        assert page.status_code == 200
    finally:
        sb.configure(auto_approve=True)
    _assert_oauth_error(_poll(sb, flow), 400, "access_denied")


def test_device_code_expires(sb):
    sb.configure(auto_approve=False, device_code_seconds=1)
    try:
        flow = _device_code(sb)
        time.sleep(1.2)
        _assert_oauth_error(_poll(sb, flow), 400, "expired_token", 70019)
    finally:
        sb.configure(auto_approve=True, device_code_seconds=900)


def test_approval_page_can_sign_in_another_user(sb):
    sb.configure(auto_approve=False)
    try:
        flow = _device_code(sb)
        http(sb.ca_path).post(f"{sb.url}/devicelogin", data={"code": flow["user_code"], "user": LEE.id})
    finally:
        sb.configure(auto_approve=True)
    token = _poll(sb, flow).json()["access_token"]
    assert Graph(sb, token).get("me").json()["id"] == LEE.id


def test_device_code_rejects_other_resources(sb):
    r = http(sb.ca_path).post(f"{sb.url}/{TENANT_ID}/oauth2/v2.0/devicecode",
                              data={"client_id": PUBLIC_APP.client_id, "scope": "User.Read openid"})
    _assert_oauth_error(r, 400, "invalid_resource")


def test_refresh_token_grant(sb):
    body = _poll(sb, _device_code(sb)).json()
    r = http(sb.ca_path).post(_token_url(sb), data={"grant_type": "refresh_token", "client_id": PUBLIC_APP.client_id,
                                                    "refresh_token": body["refresh_token"],
                                                    "scope": f"{sb.url}/OnlineMeetings.ReadWrite offline_access"})
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["scp"] == "OnlineMeetings.ReadWrite"
    bad = http(sb.ca_path).post(_token_url(sb), data={"grant_type": "refresh_token", "client_id": PUBLIC_APP.client_id,
                                                      "refresh_token": "nope"})
    _assert_oauth_error(bad, 400, "invalid_grant")


def test_msal_confidential_client_then_cache(sb):
    app = sb.app_profile
    cca = msal.ConfidentialClientApplication(app["client_id"], client_credential=app["client_secret"],
                                             authority=app["authority"], verify=sb.ca_path, instance_discovery=False)
    first = cca.acquire_token_for_client([f"{sb.url}/.default"])
    assert "access_token" in first, first
    assert first["token_source"] == "identity_provider"
    second = cca.acquire_token_for_client([f"{sb.url}/.default"])
    assert second["token_source"] == "cache" and second["access_token"] == first["access_token"]
    r = Graph(sb, second["access_token"]).post(f"users/{app['organizer']}/onlineMeetings/createOrGet",
                                              json={"externalId": "msal-app", "subject": "MSAL"})
    assert r.status_code in (200, 201)


def test_msal_device_flow_with_auto_approve_then_silent_from_cache(sb):
    p = sb.profile
    pca = msal.PublicClientApplication(p["client_id"], authority=p["authority"], verify=sb.ca_path,
                                       instance_discovery=False)
    scopes = [f"{sb.url}/.default"]
    flow = pca.initiate_device_flow(scopes=scopes)
    assert "user_code" in flow, flow
    result = pca.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    accounts = pca.get_accounts()
    assert [a["username"] for a in accounts] == [ADELE.upn]
    silent = pca.acquire_token_silent(scopes, account=accounts[0])
    assert silent["token_source"] == "cache" and silent["access_token"] == result["access_token"]
    assert Graph(sb, silent["access_token"]).get("me").json()["id"] == ADELE.id


def test_msal_device_flow_waits_for_approval_on_the_page(sb):
    import threading
    p = sb.profile
    sb.configure(auto_approve=False)
    try:
        pca = msal.PublicClientApplication(p["client_id"], authority=p["authority"], verify=sb.ca_path,
                                           instance_discovery=False)
        flow = pca.initiate_device_flow(scopes=[f"{sb.url}/OnlineMeetings.ReadWrite"])
        flow["interval"] = 1   # MSAL sleeps `interval` whole seconds between polls
        result = {}
        worker = threading.Thread(target=lambda: result.update(pca.acquire_token_by_device_flow(flow)))
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive()
        http(sb.ca_path).post(f"{sb.url}/devicelogin", data={"code": flow["user_code"], "decision": "approve"})
        worker.join(10)
    finally:
        sb.configure(auto_approve=True)
    assert "access_token" in result, result
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["scp"] == "OnlineMeetings.ReadWrite"
