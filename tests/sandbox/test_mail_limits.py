"""Outlook's 4-concurrent limit per app + mailbox (429, Retry-After: 1) and faults on mail (§15)."""
from __future__ import annotations

import threading
import uuid

import pytest
import requests

from .conftest import ADELE, MEGAN, Graph, app_token, assert_graph_error
from .test_mail import message, sent_with

pytestmark = pytest.mark.timeout(90)
JSON = {"Content-Type": "application/json"}


def _send_items(user, markers):
    return [{"id": str(i), "method": "POST", "url": f"/users/{user.id}/sendMail", "headers": JSON,
             "body": {"message": message(m)}} for i, m in enumerate(markers)]


def test_a_batch_with_five_sends_to_one_mailbox_has_one_refused(sb, app_graph):
    markers = [str(uuid.uuid4()) for _ in range(6)]
    items = _send_items(ADELE, markers[:5]) + [{**_send_items(MEGAN, markers[5:])[0], "id": "megan"}]
    r = app_graph.post("$batch", json={"requests": items})
    statuses = {item["id"]: item for item in r.json()["responses"]}
    refused = [item for item in statuses.values() if item["status"] == 429]
    assert len(refused) == 1 and statuses["megan"]["status"] == 202
    assert refused[0]["headers"]["Retry-After"] == "1"
    assert refused[0]["body"]["error"]["code"] == "TooManyRequests"
    assert "MailboxConcurrency" in refused[0]["body"]["error"]["message"]
    delivered = [m for m in markers if sent_with(sb, m)]
    assert len(delivered) == 5   # the refused one did nothing


def test_more_than_four_requests_at_once_for_one_mailbox_get_429(fresh_sandbox):
    sb = fresh_sandbox
    sb.configure(latency=1500)   # every request stays in flight long enough to overlap the others
    graph = Graph(sb, app_token(sb))
    start, replies = threading.Barrier(7), []

    def send():
        session = Graph(sb, graph.token)
        start.wait()
        replies.append(session.post(f"users/{ADELE.id}/sendMail", json={"message": message(str(uuid.uuid4()))}))

    threads = [threading.Thread(target=send) for _ in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [r for r in replies if r.status_code == 429]
    assert len(refused) >= 3 and all(r.status_code in (202, 429) for r in replies)
    assert all(r.headers["Retry-After"] == "1" for r in refused)
    assert_graph_error(refused[0], 429, "TooManyRequests", "MailboxConcurrency")
    assert sb.stats()["mailSent"] == 7 - len(refused)


def test_a_lost_send_mail_has_sent_the_mail(fresh_sandbox):
    sb = fresh_sandbox
    graph = Graph(sb, app_token(sb))
    sb.configure(faults="lost=1")
    marker = str(uuid.uuid4())
    with pytest.raises(requests.exceptions.RequestException):
        graph.post(f"users/{ADELE.id}/sendMail", json={"message": message(marker)})
    sb.configure(faults=None)
    assert len(sent_with(sb, marker)) == 1


def test_injected_503_sends_nothing(fresh_sandbox):
    sb = fresh_sandbox
    graph = Graph(sb, app_token(sb))
    sb.configure(faults="503=1")
    marker = str(uuid.uuid4())
    assert_graph_error(graph.post(f"users/{ADELE.id}/sendMail", json={"message": message(marker)}), 503,
                       "ServiceUnavailable")
    sb.configure(faults=None)
    assert sent_with(sb, marker) == []
