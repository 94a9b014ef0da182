"""Throttling waited out (issue 12): 429s with and without Retry-After, and `send` under a server's rate limit."""

from __future__ import annotations

import csv
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import trustme

from lib.graph import GraphClient, GraphError, GraphResponse, open_client
from lib.graph.profile import Profile
from lib.graph.signin import StaticTokenProvider
from lib.model.flows import RequestSpec
from lib.sandbox.process import start_sandbox_process
from tests.helpers import clients_csv, write_csv

ROOT = Path(__file__).resolve().parents[2]


# -- a scripted HTTPS server that throttles without saying for how long -------------------------------
class _Throttling(http.server.BaseHTTPRequestHandler):
    refusals = 2        # how many replies (or batch items) are 429 with no Retry-After before success
    seen: list = []

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self.seen.append(self.path)
        if len(self.seen) <= self.refusals:
            return self._reply(429, {"error": {"code": "TooManyRequests", "message": "Slow down."}})
        self._reply(200, {"value": []})

    def do_POST(self):  # noqa: N802
        items = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["requests"]
        responses = []
        for item in items:
            self.seen.append(item["url"])
            if len(self.seen) <= self.refusals:
                responses.append({"id": item["id"], "status": 429, "headers": {},
                                  "body": {"error": {"code": "TooManyRequests", "message": "Slow down."}}})
            else:
                responses.append({"id": item["id"], "status": 201, "headers": {}, "body": {"id": item["id"]}})
        self._reply(200, {"responses": responses})

    def log_message(self, *args):
        pass


@pytest.fixture
def throttling_server(tmp_path):
    ca = trustme.CA()
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Throttling.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = Profile.from_dict({"cloud": "sandbox", "graph_base_url": f"https://127.0.0.1:{server.server_address[1]}",
                                 "tenant_id": "t", "client_id": "c", "auth": "device_code", "ca_bundle": str(ca_path)})
    yield profile
    server.shutdown()


def test_a_429_without_retry_after_is_waited_out_with_backoff(throttling_server):
    client = GraphClient(throttling_server, StaticTokenProvider("t"), backoff_base=0.05, backoff_cap=0.2)
    reply = client.request("GET", "v1.0", "/me/onlineMeetings")
    assert reply.status == 200 and reply.attempts == 3
    assert client.throttle.throttled == 2 and client.throttle.pauses >= 1


def test_batch_items_throttled_without_retry_after_are_waited_out(throttling_server):
    _Throttling.refusals = 3
    try:
        client = GraphClient(throttling_server, StaticTokenProvider("t"), backoff_base=0.05, backoff_cap=0.2)
        items = [(f"k{i}", RequestSpec("meeting", "POST", "v1.0", "/me/onlineMeetings", {"n": i})) for i in range(6)]
        results = client.batch("v1.0", items)
    finally:
        _Throttling.refusals = 2
    assert all(isinstance(r, GraphResponse) and r.status == 201 for r in results.values())
    assert client.throttle.throttled == 3 and len(_Throttling.seen) == 9  # only the refused items went again


def test_max_wait_zero_fails_a_throttled_request_at_once(throttling_server):
    client = open_client(throttling_server, StaticTokenProvider("t"), max_wait=0)
    with pytest.raises(GraphError) as info:
        client.request("GET", "v1.0", "/me/onlineMeetings")
    assert info.value.status == 429 and "throttling" in info.value.explanation
    assert len(_Throttling.seen) == 1


# -- `send` with default options under the server's limit ----------------------------------------------
def _send(sb, path: Path, out: Path, home: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "lib", "send", str(path), "--connection", str(sb.profile_path),
                           "--out", str(out), *extra], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("limit, rows", [(5, 30), (20, 40)])
def test_send_with_default_options_finishes_every_row_under_a_rate_limit(tmp_path, limit, rows):
    path = write_csv(tmp_path / "clients.csv", clients_csv(rows, f"RL{limit}"))
    with start_sandbox_process(tmp_path / "sb", rate_limit=limit) as sb:
        done = _send(sb, path, tmp_path / "RESULTS.csv", tmp_path / "home")
        stats = sb.stats()
    assert done.returncode == 0, done.stderr
    with (tmp_path / "RESULTS.csv").open(encoding="utf-8-sig", newline="") as handle:
        statuses = [r["status"] for r in csv.DictReader(handle)]
    assert statuses == ["created"] * rows
    assert stats["onlineMeetings"] == rows and stats["throttled"] > 0  # Graph did say no, and it was waited out


def test_send_max_wait_zero_fails_throttled_rows_and_says_why(tmp_path):
    path = write_csv(tmp_path / "clients.csv", clients_csv(6, "MW0"))
    with start_sandbox_process(tmp_path / "sb", rate_limit=1) as sb:
        done = _send(sb, path, tmp_path / "RESULTS.csv", tmp_path / "home", "--max-wait", "0")
    assert done.returncode == 1
    assert "throttling" in done.stderr
