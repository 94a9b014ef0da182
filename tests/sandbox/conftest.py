"""Fixtures: one real sandbox process (HTTPS on 127.0.0.1) per session, tokens, and a small Graph client."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from lib.sandbox import start_sandbox_process
from lib.sandbox.directory import CONFIDENTIAL_APP, PUBLIC_APP, USERS



@pytest.fixture(autouse=True)
def _no_ca_bundle_override(monkeypatch):
    """REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (set on this machine) override a requests Session's `verify`,
    and so MSAL's `verify=`; the sandbox's CA must win in these tests."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)

ADELE, MEGAN, LEE = USERS[0], USERS[1], USERS[2]
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def http(ca: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.verify = ca
    return s


class Graph:
    """A thin test client: base URL, version, bearer token; returns raw `requests` responses."""

    def __init__(self, sb, token: str | None, version: str = "v1.0"):
        self.sb, self.token, self.version = sb, token, version
        self.s = http(sb.ca_path)

    def with_version(self, version: str) -> "Graph":
        return Graph(self.sb, self.token, version)

    def url(self, path: str) -> str:
        return f"{self.sb.url}/{self.version}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, headers=None, **kw) -> requests.Response:
        h = dict(headers or {})
        if self.token is not None:
            h.setdefault("Authorization", f"Bearer {self.token}")
        return self.s.request(method, self.url(path), headers=h, timeout=30, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def app_token(sb) -> str:
    r = http(sb.ca_path).post(f"{sb.profile['authority']}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": CONFIDENTIAL_APP.client_id,
        "client_secret": CONFIDENTIAL_APP.secret, "scope": f"{sb.url}/.default"})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def user_token(sb, user=ADELE, scope: str | None = None) -> str:
    """A delegated token for `user`, signed in through the approval page (works with auto-approve off or on)."""
    s = http(sb.ca_path)
    base = f"{sb.profile['authority']}/oauth2/v2.0"
    previous = sb.configure()["auto_approve"]
    sb.configure(auto_approve=False)
    try:
        flow = s.post(f"{base}/devicecode", data={"client_id": PUBLIC_APP.client_id,
                                                  "scope": scope or f"{sb.url}/.default"}).json()
        page = s.post(f"{sb.url}/devicelogin", data={"code": flow["user_code"], "user": user.id,
                                                     "decision": "approve"})
        assert page.status_code == 200, page.text
    finally:
        sb.configure(auto_approve=previous)
    r = s.post(f"{base}/token", data={"grant_type": DEVICE_CODE_GRANT, "client_id": PUBLIC_APP.client_id,
                                      "device_code": flow["device_code"]})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="session")
def sb(tmp_path_factory):
    """The shared sandbox (auto-approve on). Tests that change faults restore them."""
    with start_sandbox_process(tmp_path_factory.mktemp("sandbox"), auto_approve=True) as process:
        yield process


@pytest.fixture(scope="session")
def app_graph(sb) -> Graph:
    return Graph(sb, app_token(sb))


@pytest.fixture(scope="session")
def me_graph(sb) -> Graph:
    """Delegated as Adele (the device-code user)."""
    return Graph(sb, user_token(sb, ADELE))


@pytest.fixture(scope="session")
def megan_graph(sb) -> Graph:
    return Graph(sb, user_token(sb, MEGAN))


@pytest.fixture
def clean_faults(sb):
    yield sb
    sb.configure(latency=None, rate_limit=None, faults=None, seed=None)


def new_key() -> str:
    return f"test-{uuid.uuid4()}"


def create(graph: Graph, path: str = "me/onlineMeetings", **body) -> dict:
    body = {"subject": "Visit", "startDateTime": "2030-03-01T10:00:00Z", "endDateTime": "2030-03-01T10:30:00Z",
            **body}
    r = graph.post(path, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def assert_graph_error(r: requests.Response, status: int, code: str, message: str | None = None) -> dict:
    """Status, Graph error body shape (§9), and optionally a message fragment or regex."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    inner = err["innerError"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", inner["date"])
    assert inner["request-id"] == r.headers["request-id"]
    assert inner["client-request-id"] == r.headers["client-request-id"]
    if message is not None:
        assert re.search(message, err["message"]), err["message"]
    return err
