"""The Graph client: retries, throttling, batching, token safety and errors, against a real sandbox."""

from __future__ import annotations

import http.server
import json
import logging
import os
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from lib.graph.signin import StaticTokenProvider, token_provider_for
from lib.model.flows import RequestSpec
from lib.graph.client import GraphClient, GraphError, GraphResponse, parse_body
from lib.graph.pacing import Throttle
from lib.graph.transport import new_request_id
from lib.graph.profile import Profile

UPN = "adele.vance@contoso.onmicrosoft.com"


# -- helpers ----------------------------------------------------------------------------------------
def client_for(sandbox, *, app_only=False, tokens=None, **options) -> GraphClient:
    profile = Profile.load(sandbox.app_profile_path if app_only else sandbox.profile_path)
    options.setdefault("backoff_base", 0.05)
    options.setdefault("backoff_cap", 0.5)
    return GraphClient(profile, tokens or token_provider_for(profile), **options)


def create_spec(client: GraphClient, tag: str = "", **body) -> RequestSpec:
    start = datetime(2027, 5, 3, 9, tzinfo=timezone.utc)
    doc = {"externalId": tag or f"g-{uuid.uuid4().hex[:12]}", "subject": "Visit",
           "startDateTime": start.isoformat().replace("+00:00", "Z"),
           "endDateTime": (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"), **body}
    return RequestSpec("meeting", "POST", "v1.0", f"{client.user_path()}/onlineMeetings/createOrGet", doc)


def sms_spec(meeting_id: str) -> RequestSpec:
    body = {"attendees": [{"phoneNumber": "+12125550100", "timeZone": "Pacific Standard Time"}],
            "messageType": "confirmation"}
    return RequestSpec("sms", "POST", "v1.0", "/me/onlineMeetings/{onlineMeetingId}/sendVirtualAppointmentSms",
                       body, idempotent=False).with_meeting_id(meeting_id)


def stored(sandbox) -> list[dict]:
    found = sandbox.meetings()
    return found["value"] if isinstance(found, dict) else found


def count_external(sandbox, external_id: str) -> int:
    return sum(1 for m in stored(sandbox) if m.get("externalId") == external_id)


# -- Retry-After, backoff, bodies (no sandbox) ------------------------------------------------------
def test_json_bodies_are_read_whatever_the_content_type_parameters():
    ct = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
    assert parse_body(b'{"a": 1}', ct) == {"a": 1}
    assert parse_body(b"", ct) is None
    assert parse_body(b"<html>", "text/html") is None


def test_a_graph_error_reads_inner_error_in_either_casing_and_prints_one_line():
    body = {"error": {"code": "forbidden", "message": "No.", "innererror": {
        "date": "2021-07-02T01:40:19", "request-id": "r-1", "client-request-id": "c-1"}}}
    error = GraphError.from_reply(403, {"Retry-After": "2"}, body, method="GET", url="https://x/v1.0/me")
    assert (error.code, error.request_id, error.client_request_id, error.date) == ("forbidden", "r-1", "c-1",
                                                                                   "2021-07-02T01:40:19")
    assert str(error) == "403 Forbidden: No. (request-id r-1)"
    assert error.to_dict()["retry_after"] == 2.0 and error.explanation and error.fix
    nested = {"error": {"code": "X", "message": "m", "innerError": {"innerError": {"request-id": "deep"}}}}
    assert GraphError.from_reply(400, {}, nested).request_id == "deep"


# -- the token goes to the Graph host only (no sandbox) ----------------------------------------------
class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802
        self.seen.append(dict(self.headers))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def foreign_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def sandbox_profile(base="https://127.0.0.1:9") -> Profile:
    return Profile.from_dict({"cloud": "sandbox", "graph_base_url": base, "tenant_id": "t", "client_id": "c",
                              "auth": "device_code"})


def test_the_token_is_never_sent_to_another_host(foreign_server):
    client = GraphClient(sandbox_profile(), StaticTokenProvider("secret-token"))
    with pytest.raises(GraphError) as info:
        client.request("GET", "v1.0", foreign_server + "/v1.0/me")
    assert info.value.code == "ForeignHost" and _Recorder.seen == []


def test_another_port_on_the_same_host_is_another_host(foreign_server):
    port = foreign_server.rsplit(":", 1)[1]
    client = GraphClient(sandbox_profile("https://127.0.0.1:9"), StaticTokenProvider("secret-token"))
    with pytest.raises(GraphError, match="refusing to send the access token"):
        client.request("GET", "v1.0", f"https://127.0.0.1:{port}/v1.0/me")
    assert _Recorder.seen == []


def test_the_environment_is_read_once_a_proxy_kept_and_netrc_never_replaces_the_token(monkeypatch, tmp_path):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login someone password secret\n")
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    client = GraphClient(sandbox_profile(), StaticTokenProvider("t"))
    assert client.session.proxies.get("https") == "http://proxy.example:3128"
    assert client.session.trust_env is False  # no environment lookup (or ~/.netrc Basic auth) at each request
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert "https" not in GraphClient(sandbox_profile(), StaticTokenProvider("t")).session.proxies


def test_a_real_cloud_client_only_talks_to_its_own_graph():
    profile = Profile.from_dict({"cloud": "usgov", "tenant_id": "contoso.onmicrosoft.us", "auth": "device_code",
                                 "client_id": "66666666-7777-8888-9999-000000000000"})
    client = GraphClient(profile, StaticTokenProvider("t"))
    with pytest.raises(GraphError) as info:
        client.request("GET", "v1.0", "https://graph.microsoft.com/v1.0/me")
    assert info.value.code == "ForeignHost"


def test_a_connection_failure_is_explained_and_repr_hides_the_token():
    client = GraphClient(sandbox_profile("https://127.0.0.1:9"), StaticTokenProvider("secret-token"), max_attempts=2,
                         backoff_base=0.01)
    with pytest.raises(GraphError) as info:
        client.request("GET", "v1.0", "/me")
    assert info.value.code == "ConnectionFailed" and "sandbox running" in info.value.fix
    assert "secret-token" not in repr(client) + str(info.value) + repr(info.value)


def test_client_request_ids_are_fresh_version_4_uuids():
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_a_forked_child_draws_other_request_ids_than_its_parent():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() != new_request_id()  # the same draw, had the child kept the parent's state


# -- against the sandbox ----------------------------------------------------------------------------
def test_create_or_get_creates_then_returns_the_same_meeting(sandbox):
    client = client_for(sandbox)
    spec = create_spec(client)
    first, second = client.send(spec), client.send(spec)
    assert (first.status, second.status) == (201, 200)
    assert first.body["id"] == second.body["id"] and first.request_id and first.ok
    assert count_external(sandbox, spec.body["externalId"]) == 1


def test_app_only_resolves_a_upn_organizer_once_and_uses_the_object_id(sandbox):
    doc = json.loads(sandbox.app_profile_path.read_text())
    doc["organizer"] = UPN
    profile = Profile.from_dict(doc)
    client = GraphClient(profile, token_provider_for(profile))
    path = client.user_path()
    user = client.resolve_user(UPN)
    assert path == f"/users/{user['id']}" and user["userPrincipalName"] == UPN
    before = sandbox.stats()["requests"]
    assert client.user_path() == path and client.resolve_user(UPN) == user
    assert sandbox.stats()["requests"] == before
    assert client.send(create_spec(client)).status == 201


def test_organizer_decides_the_journal_id_and_the_user_path_once_per_organizer(sandbox):
    assert client_for(sandbox).organizer("someone@contoso.com") == ("me", "/me")  # signed in: always oneself
    client = client_for(sandbox, app_only=True)
    default_id, default_path = client.organizer()
    assert default_path == client.user_path() == f"/users/{default_id}"
    other = client.organizer(UPN)
    assert other == (client.resolve_user(UPN)["id"], f"/users/{client.resolve_user(UPN)['id']}")
    before = sandbox.stats()["requests"]
    assert client.organizer(UPN) == other and client.organizer("") == (default_id, default_path)
    assert sandbox.stats()["requests"] == before


def test_an_unknown_upn_is_a_404_that_points_to_the_object_id(sandbox):
    client = client_for(sandbox, app_only=True)
    with pytest.raises(GraphError) as info:
        client.resolve_user("nobody@contoso.onmicrosoft.com")
    assert info.value.status == 404 and "object id" in info.value.fix.lower() + info.value.explanation.lower()


def test_permanent_errors_are_not_repeated_and_carry_graphs_details(sandbox):
    client = client_for(sandbox)
    before = sandbox.stats()["requests"]
    with pytest.raises(GraphError) as info:
        client.request("GET", "v1.0", "/me/onlineMeetings/MSpub3RoZXJl")
    assert sandbox.stats()["requests"] == before + 1
    error = info.value
    assert error.status == 404 and error.request_id and error.client_request_id and error.date
    assert str(error).startswith("404 Not Found: ") and f"(request-id {error.request_id})" in str(error)
    assert "meeting does not exist" in error.explanation


def test_app_only_on_me_is_explained_and_not_repeated(sandbox):
    client = client_for(sandbox, app_only=True)
    before = sandbox.stats()["requests"]
    with pytest.raises(GraphError) as info:
        client.request("POST", "v1.0", "/me/onlineMeetings/createOrGet", {"externalId": "x", "subject": "s"})
    assert info.value.status in (400, 403) and "/me" in info.value.explanation
    assert sandbox.stats()["requests"] == before + 1


def test_app_only_cannot_ask_for_a_join_link_and_nothing_is_sent(sandbox):
    client = client_for(sandbox, app_only=True)
    before = sandbox.stats()["requests"]
    spec = RequestSpec("joinLink", "GET", "v1.0", f"{client.user_path()}/onlineMeetings/abc/getVirtualAppointmentJoinWebUrl")
    with pytest.raises(GraphError) as info:
        client.check_supports("join-link")
    assert info.value.code == "NotSupported" and "signed-in user" in info.value.message
    assert "device-code sign-in" in info.value.fix
    with pytest.raises(GraphError, match="NotSupported"):
        client.send(spec)
    assert client.batch("v1.0", [("a", spec)])["a"].code == "NotSupported"
    assert sandbox.stats()["requests"] == before
    client.check_supports("virtual-appointment")


def test_delegated_sign_in_supports_join_links_and_sms(sandbox):
    client_for(sandbox).check_supports("join-link", sms=True)


def test_a_broken_token_is_refreshed_once(sandbox):
    real = token_provider_for(Profile.load(sandbox.app_profile_path))
    tokens = StaticTokenProvider("broken.token.value", kind="app", refresh=lambda: real.get_token(force_refresh=True))
    client = client_for(sandbox, app_only=True, tokens=tokens)
    assert client.resolve_user(UPN)["userPrincipalName"] == UPN
    assert tokens.refreshes == 1


def test_a_token_that_stays_broken_fails_after_one_refresh(sandbox):
    tokens = StaticTokenProvider("broken.token.value", kind="app", refresh=lambda: "still.broken.value")
    client = client_for(sandbox, app_only=True, tokens=tokens)
    with pytest.raises(GraphError) as info:
        client.resolve_user(UPN)
    assert info.value.status == 401 and tokens.refreshes == 1 and "Sign in again" in info.value.fix


def test_whoami_proves_the_connection(sandbox):
    info = client_for(sandbox, app_only=True).whoami()
    assert info["auth"] == "app" and info["organizer"] == UPN and info["user_path"].startswith("/users/")
    assert "→ 200" in info["checked"] and info["join_link_and_sms"] is False
    assert client_for(sandbox).whoami()["user_path"] == "/me"


def test_logs_never_show_the_token(sandbox, caplog):
    client = client_for(sandbox)
    token = client.tokens.get_token()
    with caplog.at_level(logging.DEBUG):
        client.send(create_spec(client))
    assert "appointment_studio.graph" in caplog.text and token not in caplog.text


def test_a_batch_of_25_is_split_and_every_item_matched_by_key(sandbox):
    client = client_for(sandbox)
    items = [(f"key-{i}", create_spec(client)) for i in range(25)]
    before = sandbox.stats()
    results = client.batch("v1.0", items)
    after = sandbox.stats()
    assert set(results) == {k for k, _ in items}
    assert all(isinstance(r, GraphResponse) and r.status == 201 for r in results.values())
    assert after["batchItems"] - before["batchItems"] == 25
    again = client.batch("v1.0", items)
    assert {r.status for r in again.values()} == {200}


def test_a_batch_reports_each_items_own_failure(sandbox):
    client = client_for(sandbox)
    good = create_spec(client)
    bad = RequestSpec("meeting", "POST", "v1.0", "/me/onlineMeetings/createOrGet", {"externalId": "x"})
    results = client.batch("v1.0", [("good", good), ("bad", bad)])
    assert results["good"].status == 201
    assert isinstance(results["bad"], GraphError) and results["bad"].status == 400
    assert "subject" in results["bad"].message


def test_a_shared_pause_after_429_holds_workers_that_never_saw_it(fresh_sandbox):
    client = client_for(fresh_sandbox, throttle=Throttle())
    spec_a, spec_b = create_spec(client), create_spec(client)
    fresh_sandbox.configure(faults="429=1.0")
    results = {}

    def send(name, spec):
        started = time.monotonic()
        results[name] = (client.send(spec), time.monotonic() - started)

    a = threading.Thread(target=send, args=("a", spec_a))
    a.start()
    deadline = time.monotonic() + 5
    while client.throttle.throttled < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    fresh_sandbox.configure(faults="")
    pause_left = client.throttle.paused_for
    assert pause_left > 0.5  # the fractional Retry-After (about 1.5 s) is in force
    send("b", spec_b)  # b never got a 429, yet waits out a's pause
    a.join()
    assert results["a"][0].status == 201 and results["b"][0].status == 201
    assert results["b"][1] >= pause_left - 0.05
    assert client.throttle.throttled == 1  # one 429, then everyone waited: no stampede


def test_lost_replies_and_server_faults_are_retried_without_a_duplicate(fresh_sandbox):
    client = client_for(fresh_sandbox, max_attempts=12)
    specs = [create_spec(client) for _ in range(8)]
    fresh_sandbox.configure(faults="429=0.05,503=0.05,504=0.1,reset=0.1,lost=0.2", seed=7)
    for spec in specs:
        assert client.send(spec).status in (200, 201)
    fresh_sandbox.configure(faults="")
    assert fresh_sandbox.stats()["faultsInjected"] > 0
    assert all(count_external(fresh_sandbox, s.body["externalId"]) == 1 for s in specs)


def test_sms_is_not_repeated_after_a_lost_reply(fresh_sandbox):
    client = client_for(fresh_sandbox)
    meeting = client.send(create_spec(client)).body["id"]
    before = fresh_sandbox.stats()["smsSent"]
    fresh_sandbox.configure(faults="lost=1.0")
    with pytest.raises(GraphError) as info:
        client.send(sms_spec(meeting))
    fresh_sandbox.configure(faults="")
    assert info.value.code == "UnknownOutcome" and "unknown whether" in info.value.explanation
    assert fresh_sandbox.stats()["smsSent"] - before == 1  # sent once, never again


def test_a_batch_lost_as_a_whole_retries_safe_items_and_reports_sms_as_unknown(fresh_sandbox):
    client = client_for(fresh_sandbox, max_attempts=3)
    meeting = client.send(create_spec(client)).body["id"]
    create = create_spec(client)
    before = fresh_sandbox.stats()["smsSent"]
    fresh_sandbox.configure(faults="lost=1.0")
    results = client.batch("v1.0", [("create", create), ("sms", sms_spec(meeting))])
    fresh_sandbox.configure(faults="")
    assert results["sms"].code == "UnknownOutcome"
    assert results["create"].code == "ConnectionFailed"  # retried until attempts ran out
    assert fresh_sandbox.stats()["smsSent"] - before == 1
    assert count_external(fresh_sandbox, create.body["externalId"]) == 1


def test_throttled_batch_items_alone_are_retried(fresh_sandbox):
    client = client_for(fresh_sandbox, throttle=Throttle(), max_attempts=10)
    items = [(f"k{i}", create_spec(client)) for i in range(12)]
    fresh_sandbox.configure(faults="429=0.3,503=0.1", seed=11)
    results = client.batch("v1.0", items)
    fresh_sandbox.configure(faults="")
    assert all(isinstance(r, GraphResponse) and r.status == 201 for r in results.values())
    assert client.throttle.throttled > 0
    assert all(count_external(fresh_sandbox, s.body["externalId"]) == 1 for _, s in items)


def test_a_rate_ceiling_keeps_a_run_under_the_tenants_limit(fresh_sandbox):
    fresh_sandbox.configure(rate_limit=5)
    client = client_for(fresh_sandbox, throttle=Throttle(max_per_second=5))
    client.user_path()
    started = time.monotonic()
    for _ in range(11):
        client.request("GET", "v1.0", "/me/onlineMeetings?$filter=joinMeetingIdSettings/joinMeetingId eq '0'")
    assert time.monotonic() - started >= 2.0
    assert fresh_sandbox.stats()["throttled"] == 0


def test_a_missing_access_policy_is_explained_with_the_powershell_to_fix_it(fresh_sandbox):
    client = client_for(fresh_sandbox, app_only=True)
    organizer = client.user_path().rsplit("/", 1)[-1]
    fresh_sandbox.configure(access_policy={organizer: False})
    with pytest.raises(GraphError) as info:
        client.send(create_spec(client))
    assert info.value.status == 403
    assert f'-AppIds "{client.profile.client_id}"' in info.value.fix and organizer in info.value.fix


def test_first_time_provisioning_409_is_waited_out_as_the_server_asks(tmp_path):
    from lib.sandbox.process import start_sandbox_process

    with start_sandbox_process(tmp_path / "sb", env={"SANDBOX_PROVISIONING_SECONDS": "1"}) as sb:
        client = client_for(sb, throttle=Throttle())
        meeting = client.send(create_spec(client)).body["id"]
        spec = RequestSpec("virtualAppointment", "PUT", "beta", f"/me/onlineMeetings/{meeting}/virtualAppointment",
                           {"externalAppointmentId": "prov-1"})
        started = time.monotonic()
        reply = client.send(spec)
        assert reply.status == 201 and reply.attempts >= 2
        assert time.monotonic() - started >= 0.9 and client.throttle.retries >= 1


def test_sms_is_not_repeated_after_a_gateway_timeout(fresh_sandbox):
    client = client_for(fresh_sandbox)
    meeting = client.send(create_spec(client)).body["id"]
    fresh_sandbox.configure(faults="504=1.0")
    with pytest.raises(GraphError) as info:
        client.send(sms_spec(meeting))
    fresh_sandbox.configure(faults="")
    assert info.value.status == 504
    assert client.throttle.retries == 0


def test_the_ca_bundle_is_looked_at_once_per_pool_and_still_decides(sandbox, monkeypatch):
    import certifi
    import requests

    client = client_for(sandbox)
    ca = client.verify
    client.whoami()  # signed in, the pool made
    looks = []

    def counted(real):
        def look(path):
            if path == ca:
                looks.append(path)
            return real(path)
        return look

    for name in ("exists", "isdir"):
        monkeypatch.setattr(os.path, name, counted(getattr(os.path, name)))
    for _ in range(5):
        client.whoami()
    assert looks == []  # not three system calls at every request
    url = client.base_url + "/v1.0/me"
    with pytest.raises(requests.exceptions.SSLError):  # another CA is another pool, verified against that CA
        client.session.get(url, verify=certifi.where(), timeout=10)
    assert client.whoami()
