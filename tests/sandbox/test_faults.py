"""Latency, rate limiting and injected faults (§10), switched at runtime through /_sandbox/config."""
from __future__ import annotations

import time

import pytest
import requests

from .conftest import assert_graph_error, new_key

pytestmark = pytest.mark.timeout(60)
JSON = {"Content-Type": "application/json"}


def _create(graph, key=None):
    return graph.post("me/onlineMeetings/createOrGet", json={"externalId": key or new_key(), "subject": "F"})


def test_rate_limit_refuses_with_429_and_whole_second_retry_after(me_graph, sb, clean_faults):
    sb.configure(rate_limit=3)
    statuses = [me_graph.get("me").status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429, 429]
    r = me_graph.get("me")
    assert_graph_error(r, 429, "TooManyRequests")
    assert r.headers["Retry-After"].isdigit() and int(r.headers["Retry-After"]) >= 1
    time.sleep(1.1)
    assert me_graph.get("me").status_code == 200
    assert sb.stats()["throttled"] >= 4


def test_rate_limit_is_per_client_app(me_graph, app_graph, sb, clean_faults):
    sb.configure(rate_limit=2)
    assert [me_graph.get("me").status_code for _ in range(3)] == [200, 200, 429]
    assert app_graph.get("users/adele.vance@contoso.onmicrosoft.com").status_code == 200


def test_batch_items_count_against_the_rate_limit_each(me_graph, sb, clean_faults):
    time.sleep(1.05)
    sb.configure(rate_limit=3)
    r = me_graph.post("$batch", json={"requests": [{"id": str(i), "method": "GET", "url": "/me"} for i in range(5)]})
    assert r.status_code == 200
    statuses = sorted(item["status"] for item in r.json()["responses"])
    assert statuses == [200, 200, 200, 429, 429]
    throttled = [i for i in r.json()["responses"] if i["status"] == 429]
    assert all(int(i["headers"]["Retry-After"]) >= 1 for i in throttled)
    assert throttled[0]["body"]["error"]["code"] == "TooManyRequests"


def test_injected_429_has_fractional_retry_after_and_does_nothing(me_graph, sb, clean_faults):
    sb.configure(faults="429=1")
    key = new_key()
    r = _create(me_graph, key)
    assert_graph_error(r, 429, "TooManyRequests")
    assert r.headers["Retry-After"] == "1.5"
    assert key not in [m["externalId"] for m in sb.meetings()]


def test_injected_503_and_504(me_graph, sb, clean_faults):
    sb.configure(faults="503=1")
    r = _create(me_graph)
    assert_graph_error(r, 503, "ServiceUnavailable")
    assert r.headers["Retry-After"] == "1"
    sb.configure(faults="504=1")
    r = _create(me_graph)
    assert_graph_error(r, 504, "GatewayTimeout")
    assert "Retry-After" not in r.headers


def test_reset_drops_the_connection_and_does_nothing(me_graph, sb, clean_faults):
    sb.configure(faults="reset=1")
    key = new_key()
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        _create(me_graph, key)
    sb.configure(faults=None)
    assert key not in [m["externalId"] for m in sb.meetings()]
    assert _create(me_graph, key).status_code == 201


def test_lost_carries_out_the_operation_then_drops_the_connection(me_graph, sb, clean_faults):
    sb.configure(faults="lost=1")
    key = new_key()
    before = sb.stats()
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        _create(me_graph, key)
    sb.configure(faults=None)
    after = sb.stats()
    assert key in [m["externalId"] for m in sb.meetings()]
    assert after["onlineMeetings"] == before["onlineMeetings"] + 1
    assert after["faultsInjected"] >= before["faultsInjected"] + 1
    assert _create(me_graph, key).status_code == 200   # the retry finds it


def test_batch_gets_per_item_faults_and_outer_connection_faults(me_graph, sb, clean_faults):
    sb.configure(faults="503=1")
    r = me_graph.post("$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/me"}]})
    assert r.status_code == 200
    assert r.json()["responses"][0]["status"] == 503
    assert r.json()["responses"][0]["headers"]["Retry-After"] == "1"
    sb.configure(faults="lost=1")
    key = new_key()
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        me_graph.post("$batch", json={"requests": [{"id": "1", "method": "POST", "headers": JSON,
                                                    "url": "/me/onlineMeetings/createOrGet",
                                                    "body": {"externalId": key, "subject": "x"}}]})
    sb.configure(faults=None)
    assert key in [m["externalId"] for m in sb.meetings()]


def test_seed_makes_fault_sequences_repeatable(me_graph, sb, clean_faults):
    def sequence():
        sb.configure(faults="429=0.3,503=0.2,504=0.1", seed=42)
        return [me_graph.get("me").status_code for _ in range(25)]

    first = sequence()
    assert first == sequence()
    assert {200, 429, 503} <= set(first)


def test_latency_is_added_to_graph_responses_only(me_graph, sb, clean_faults):
    sb.configure(latency="150")
    t = time.perf_counter()
    me_graph.get("me")
    assert time.perf_counter() - t >= 0.15
    t = time.perf_counter()
    sb.stats()
    assert time.perf_counter() - t < 0.15
    sb.configure(latency="10-30")
    assert sb.configure()["latency"] == "10-30"


def test_stats_count_requests_throttles_and_faults_since_start(me_graph, sb, clean_faults):
    sb.reset_counters()
    sb.configure(faults="504=1")
    me_graph.get("me")
    sb.configure(faults=None, rate_limit=1)
    time.sleep(1.05)
    me_graph.get("me")
    me_graph.get("me")
    stats = sb.stats()
    assert stats["requests"] == 3 and stats["faultsInjected"] == 1 and stats["throttled"] == 1
    assert {"onlineMeetings", "virtualAppointments", "smsSent"} <= set(stats)


def test_bad_config_values_are_400(sb):
    for body in ({"faults": "999=1"}, {"faults": "429=2"}, {"latency": "slow"}, {"rate_limit": -1}, {"nope": 1}):
        r = requests.Session()
        r.trust_env = False
        resp = r.post(f"{sb.url}/_sandbox/config", json=body, verify=sb.ca_path)
        assert resp.status_code == 400, body
