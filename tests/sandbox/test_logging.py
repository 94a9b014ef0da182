"""The sandbox never writes a bearer token anywhere: not to its log, not to its database."""
from __future__ import annotations

import pytest
import requests

from lib.sandbox import start_sandbox_process

from .conftest import Graph, app_token


@pytest.mark.timeout(90)
def test_no_bearer_token_reaches_the_log_or_the_state_files(tmp_path):
    with start_sandbox_process(tmp_path / "sb", auto_approve=True, faults="lost=0.3,reset=0.2,503=0.2", seed=5) as sb:
        token = app_token(sb)
        graph = Graph(sb, token)
        user = sb.app_profile["organizer"]
        for i in range(20):
            try:
                graph.post(f"users/{user}/onlineMeetings/createOrGet", json={"externalId": f"log-{i}", "subject": "x"})
                graph.post("$batch", json={"requests": [{"id": "1", "method": "GET", "url": f"/users/{user}"}]})
            except requests.RequestException:
                pass  # dropped connections are the point: their error paths must not log the token either
        Graph(sb, token + "tampered").get("me/onlineMeetings")
        Graph(sb, "not.a.jwt").get("me/onlineMeetings")
        log = sb.stderr
        sb.stop()
    signature = token.rsplit(".", 1)[-1]
    assert token not in log and signature not in log
    for path in (tmp_path / "sb").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert signature.encode() not in data, f"{path.name} holds a bearer token"
