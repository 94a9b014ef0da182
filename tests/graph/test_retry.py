"""The one retry policy, against scripted reply sequences (no server)."""

from __future__ import annotations

import pytest

from lib.graph.retry import FATAL, GIVE_UP, LOST, REFRESH, RETRY, UNSENT, Retry


def play(retry: Retry, script, *, idempotent: bool = True):
    """Feed each scripted reply to the policy as the transport would; the decisions, up to the first give-up.

    A step is a status, ``(status, Retry-After seconds)`` or a transport failure (LOST, UNSENT, FATAL).
    """
    decisions = []
    for step in script:
        reply, retry_after = step if isinstance(step, tuple) else (step, None)
        if isinstance(reply, str):
            decision = retry.increment(failure=reply, idempotent=idempotent)
        else:
            decision = retry.increment(status=reply, retry_after=retry_after, idempotent=idempotent)
        decisions.append(decision)
        if decision.action == GIVE_UP:
            break
        retry = decision.retry
    return decisions


def test_429_honours_retry_after_and_every_worker_waits():
    decisions = play(Retry(), [(429, 2.0), (429, 0.5), (429, 3.0)])
    assert [d.action for d in decisions] == [RETRY] * 3
    assert [d.delay for d in decisions] == [2.0, 0.5, 3.0]
    assert all(d.shared for d in decisions)
    assert decisions[-1].retry.waited == 5.5 and decisions[-1].retry.attempt == 4


def test_429_without_retry_after_backs_off_exponentially_with_jitter():
    decisions = play(Retry(backoff_base=1.0, backoff_cap=8.0), [429] * 6)
    assert [d.action for d in decisions] == [RETRY] * 6
    for number, decision in enumerate(decisions, start=1):
        ceiling = min(8.0, 2 ** (number - 1))
        assert ceiling / 2 <= decision.delay <= ceiling and decision.shared


def test_throttling_is_waited_out_until_max_wait_whatever_the_attempt_count():
    decisions = play(Retry(total=3, max_wait=10.0), [(429, 4.0)] * 10)
    assert [d.action for d in decisions] == [RETRY, RETRY, RETRY, GIVE_UP]  # waited 0, 4, 8: 12 >= 10 stops
    assert decisions[-1].reason == "max_wait" and decisions[-1].retry.waited == 12.0
    many = play(Retry(total=3, max_wait=900.0), [(429, 0.1)] * 40)
    assert all(d.action == RETRY for d in many)  # far past `total` attempts: only time counts for 429


def test_max_wait_zero_gives_up_on_the_first_429():
    (decision,) = play(Retry(max_wait=0.0), [(429, 1.0)])
    assert decision.action == GIVE_UP and decision.reason == "max_wait"


def test_a_401_refreshes_the_token_once_then_is_final():
    decisions = play(Retry(), [401, 401])
    assert [d.action for d in decisions] == [REFRESH, GIVE_UP]
    assert decisions[0].delay == 0 and decisions[1].reason == "final"
    after_success = play(Retry(), [401, (503, 0.1), 401])
    assert [d.action for d in after_success] == [REFRESH, RETRY, GIVE_UP]


def test_server_errors_are_retried_up_to_total_attempts():
    decisions = play(Retry(total=3, backoff_base=0.01), [(503, 1.0), 504, 503, 503])
    assert [d.action for d in decisions] == [RETRY, RETRY, GIVE_UP]
    assert decisions[0].delay == 1.0 and not decisions[0].shared
    assert decisions[-1].reason == "attempts"


@pytest.mark.parametrize("status", [400, 403, 404, 412, 409, 500])
def test_answers_are_final(status):
    (decision,) = play(Retry(), [status])
    assert decision.action == GIVE_UP and decision.reason == "final"


def test_the_first_time_provisioning_409_is_retried_as_the_server_asks():
    decisions = play(Retry(), [(409, 1.0), (409, 1.0)])
    assert [d.action for d in decisions] == [RETRY, RETRY] and decisions[0].delay == 1.0


def test_an_sms_is_never_repeated_after_a_gateway_timeout_or_a_lost_reply():
    (timeout,) = play(Retry(), [504], idempotent=False)
    assert timeout.action == GIVE_UP and timeout.reason == "final"
    (lost,) = play(Retry(), [LOST], idempotent=False)
    assert lost.action == GIVE_UP and lost.reason == "unknown_outcome"
    throttled = play(Retry(), [(429, 1.0), (503, 1.0)], idempotent=False)
    assert [d.action for d in throttled] == [RETRY, RETRY]  # a 429 or 503 means it was not carried out


def test_dropped_connections_repeat_only_what_is_safe_or_was_never_sent():
    assert [d.action for d in play(Retry(total=3, backoff_base=0.01), [LOST] * 3)] == [RETRY, RETRY, GIVE_UP]
    unsent = play(Retry(total=3, backoff_base=0.01), [UNSENT] * 3, idempotent=False)
    assert [d.action for d in unsent] == [RETRY, RETRY, GIVE_UP] and unsent[-1].reason == "attempts"
    (fatal,) = play(Retry(), [FATAL])
    assert fatal.action == GIVE_UP and fatal.reason == "fatal"


def test_the_policy_is_immutable_and_new_forgets_a_requests_state():
    retry = Retry(total=4)
    decision = retry.increment(status=429, retry_after=2.0)
    assert retry.attempt == 1 and retry.waited == 0.0
    assert decision.retry.attempt == 2 and decision.retry.waited == 2.0
    fresh = decision.retry.new()
    assert (fresh.attempt, fresh.waited, fresh.refreshed, fresh.total) == (1, 0.0, False, 4)
