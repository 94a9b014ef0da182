"""JSON batching (§11): limits, ids, dependsOn, 424, per-item errors, relative URLs, order."""
from __future__ import annotations

import pytest

from .conftest import assert_graph_error, new_key

pytestmark = pytest.mark.timeout(60)
JSON = {"Content-Type": "application/json"}


def _batch(graph, requests, **kw):
    return graph.post("$batch", json={"requests": requests}, **kw)


def _by_id(r):
    assert r.status_code == 200, r.text
    return {item["id"]: item for item in r.json()["responses"]}


def test_batch_runs_items_with_depends_on(me_graph):
    key = new_key()
    r = _batch(me_graph, [
        {"id": "1", "method": "POST", "url": "/me/onlineMeetings/createOrGet", "headers": JSON,
         "body": {"externalId": key, "subject": "Visit"}},
        {"id": "2", "dependsOn": ["1"], "method": "POST", "url": "me/onlineMeetings/createOrGet", "headers": JSON,
         "body": {"externalId": key, "subject": "Visit"}},
        {"id": "3", "method": "GET", "url": "/me"},
    ])
    items = _by_id(r)
    assert items["1"]["status"] == 201 and items["2"]["status"] == 200
    assert items["1"]["body"]["id"] == items["2"]["body"]["id"]
    assert items["1"]["headers"]["Content-Type"].startswith("application/json")
    assert items["3"]["status"] == 200


def test_failed_dependency_gives_424_down_the_chain(me_graph):
    r = _batch(me_graph, [
        {"id": "a", "method": "GET", "url": "/me/onlineMeetings/nope"},
        {"id": "b", "dependsOn": ["a"], "method": "GET", "url": "/me"},
        {"id": "c", "dependsOn": ["B"], "method": "GET", "url": "/me"},
        {"id": "d", "method": "GET", "url": "/me"},
    ])
    items = _by_id(r)
    assert items["a"]["status"] == 404 and items["a"]["body"]["error"]["code"] == "NotFound"
    assert items["b"]["status"] == 424
    assert items["b"]["body"]["error"] == {**items["b"]["body"]["error"], "code": "FailedDependency",
                                           "message": "Dependency 'a' failed."}
    assert set(items["b"]["body"]["error"]["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert items["c"]["status"] == 424 and items["d"]["status"] == 200


def test_item_errors_are_per_item(me_graph):
    r = _batch(me_graph, [
        {"id": "1", "method": "POST", "url": "/me/onlineMeetings", "headers": JSON, "body": {"subject": "x"}},
        {"id": "2", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"},
        {"id": "3", "method": "GET", "url": "/v1.0/me"},
        {"id": "4", "method": "GET", "url": "/me/onlineMeeting/x"},
        {"id": "5", "method": "POST", "url": "/me/onlineMeetings/createOrGet", "headers": {"content-type": "text/plain"},
         "body": "x"},
        {"id": "6", "method": "POST", "url": "/$batch", "headers": JSON, "body": {"requests": []}},
    ])
    items = _by_id(r)
    assert [items[str(i)]["status"] for i in range(1, 7)] == [400, 400, 400, 400, 415, 400]


def test_items_use_the_outer_token_and_version(me_graph, sb):
    beta = me_graph.with_version("beta")
    key = new_key()
    r = _batch(beta, [{"id": "m", "method": "POST", "url": "/me/onlineMeetings/createOrGet", "headers": JSON,
                       "body": {"externalId": key, "subject": "B"}}])
    meeting = _by_id(r)["m"]["body"]
    assert meeting["@odata.context"].startswith(f"{sb.url}/beta/")
    r = _batch(beta, [{"id": "v", "method": "PUT", "url": f"/me/onlineMeetings/{meeting['id']}/virtualAppointment",
                       "headers": JSON, "body": {"settings": {"allowClientToJoinUsingBrowser": True}}}])
    item = _by_id(r)["v"]
    assert item["status"] == 201 and item["headers"]["ETag"].startswith('W/"')
    r = _batch(me_graph, [{"id": "v", "method": "GET",
                           "url": f"/me/onlineMeetings/{meeting['id']}/virtualAppointment"}])
    assert _by_id(r)["v"]["status"] == 400


@pytest.mark.parametrize("requests,message", [
    ([], "no requests"),
    ([{"id": str(i), "method": "GET", "url": "/me"} for i in range(21)], "at most 20"),
    ([{"id": "1", "method": "GET", "url": "/me"}, {"id": "1", "method": "GET", "url": "/me"}], "duplicate"),
    ([{"id": "x", "method": "GET", "url": "/me"}, {"id": "X", "method": "GET", "url": "/me"}], "duplicate"),
    ([{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["9"]}], "unknown"),
    ([{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["2"]},
      {"id": "2", "method": "GET", "url": "/me", "dependsOn": ["1"]}], "cycle"),
    ([{"id": "1", "method": "POST", "url": "/me/onlineMeetings", "body": {"subject": "x"}}], "Content-Type"),
    ([{"method": "GET", "url": "/me"}], "id"),
    ([{"id": "1", "url": "/me"}], "method"),
])
def test_malformed_batches_are_400_and_run_nothing(me_graph, sb, requests, message):
    before = sb.stats()["onlineMeetings"]
    r = _batch(me_graph, requests + [{"id": "extra", "method": "POST", "url": "/me/onlineMeetings/createOrGet",
                                      "headers": JSON, "body": {"externalId": new_key(), "subject": "x"}}]
               if message not in ("at most 20", "no requests", "duplicate") else requests)
    assert_graph_error(r, 400, "BadRequest", message)
    assert sb.stats()["onlineMeetings"] == before


def test_batch_body_must_be_json(me_graph):
    assert_graph_error(me_graph.post("$batch", data="nope", headers={"Content-Type": "application/json"}),
                       400, "BadRequest")
    assert_graph_error(me_graph.post("$batch", json={"requests": "x"}), 400, "BadRequest")


def test_twenty_items_are_fine(me_graph):
    r = _batch(me_graph, [{"id": str(i), "method": "GET", "url": "/me"} for i in range(20)])
    assert sorted(int(i) for i in _by_id(r)) == list(range(20))


def test_response_order_is_shuffled_repeatably_with_a_seed(me_graph, sb, clean_faults):
    def order():
        sb.configure(seed=7)
        r = _batch(me_graph, [{"id": str(i), "method": "GET", "url": "/me"} for i in range(10)])
        return [item["id"] for item in r.json()["responses"]]

    first = order()
    assert first == order()
    assert first != [str(i) for i in range(10)]
