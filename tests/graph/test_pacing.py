"""Pacing without a server: Retry-After, backoff, the shared pause, the rate ceiling and the learned limits."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from lib.graph.pacing import CLEAN_WINDOWS_PER_STEP, START_IN_FLIGHT, Throttle, backoff_delay, parse_retry_after


# -- Retry-After and backoff ------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [("3", 3.0), ("2.128", 2.128), (" 0 ", 0.0), (None, None), ("", None),
                                             ("soon", None), ("-1", None), ("nan", None), ("inf", None)])
def test_retry_after_reads_whole_and_fractional_seconds_and_rejects_garbage(value, expected):
    assert parse_retry_after(value) == expected


def test_retry_after_reads_an_http_date():
    now = time.time()
    when = format_datetime(datetime.fromtimestamp(now + 30, timezone.utc), usegmt=True)
    assert 28 <= parse_retry_after(when, now=now) <= 31
    past = format_datetime(datetime.fromtimestamp(now - 30, timezone.utc), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    assert all(0.25 <= backoff_delay(1, 0.5, 30) <= 0.5 for _ in range(50))
    assert all(2.0 <= backoff_delay(4, 0.5, 30) <= 4.0 for _ in range(50))
    assert all(backoff_delay(30, 0.5, 30) <= 30 for _ in range(50))


def test_one_pause_holds_every_worker():
    throttle = Throttle()
    throttle.pause(0.4)
    throttle.pause(0.1)  # a shorter pause never shortens the one in force
    waited = []

    def worker():
        started = time.monotonic()
        throttle.acquire()
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(waited) == 4 and min(waited) >= 0.35


def test_the_rate_ceiling_keeps_a_sliding_second_under_the_limit():
    throttle = Throttle(max_per_second=10)
    stamps = []
    started = time.monotonic()
    for _ in range(25):
        throttle.acquire()
        stamps.append(time.monotonic())
    assert time.monotonic() - started >= 2.0
    assert all(sum(1 for s in stamps if t <= s < t + 1.0) <= 10 for t in stamps)


def test_a_batch_takes_as_many_slots_as_it_has_items():
    throttle = Throttle(max_per_second=20)
    throttle.acquire(15)
    started = time.monotonic()
    throttle.acquire(10)
    assert time.monotonic() - started >= 1.0


# -- what Graph's 429s teach the throttle -----------------------------------------------------------
def test_notice_speaks_only_while_graph_holds_the_run():
    throttle = Throttle()
    assert throttle.notice() is None
    throttle.pause(12)
    assert throttle.notice() == "Graph asked us to slow down: waiting 12 s"
    throttle.pause(0)
    assert throttle.notice() is not None  # a shorter pause never shortens the one in force


def test_after_a_429_the_rate_is_what_the_server_accepted_and_batches_shrink_to_it():
    throttle = Throttle()
    assert throttle.rate is None and throttle.chunk_size() == 20
    first = throttle.acquire(20)
    second = throttle.acquire(20)
    throttle.release(first, 20, accepted=5, throttled=15)
    throttle.release(second, 20, accepted=0, throttled=20)  # same burst: it does not lower the guess again
    assert throttle.learned_rate == 5.0
    assert throttle.chunk_size() == 5
    assert throttle.in_flight_limit < START_IN_FLIGHT


def test_a_late_reply_from_the_same_burst_corrects_the_guess_upwards_only_with_a_count():
    throttle = Throttle()
    first = throttle.acquire(20)
    second = throttle.acquire(20)
    throttle.release(second, 20, accepted=0, throttled=20)  # replies can come back in any order
    guess = throttle.learned_rate
    throttle.release(first, 20, accepted=5, throttled=15)
    assert guess is not None and throttle.learned_rate == max(guess, 5.0)


def test_a_429_without_any_count_halves_nothing_below_one_request_a_second():
    throttle = Throttle()
    for _ in range(6):
        ticket = throttle.acquire(1)
        throttle.release(ticket, 1, accepted=0, throttled=1)
        throttle._decreased_at = 0.0  # each refusal is a new event here
    assert throttle.learned_rate == 1.0 and throttle.chunk_size() == 1


def test_clean_windows_slowly_allow_one_more_request_a_second():
    throttle = Throttle()
    ticket = throttle.acquire(10)
    throttle.release(ticket, 10, accepted=4, throttled=6)
    assert throttle.learned_rate == 4.0
    almost = 4 * CLEAN_WINDOWS_PER_STEP - 1
    throttle.release(throttle.acquire(almost), almost, accepted=almost)
    assert throttle.learned_rate == 4.0
    throttle.release(throttle.acquire(1), 1, accepted=1)
    assert throttle.learned_rate == 5.0


def test_before_the_first_429_the_in_flight_limit_doubles_per_round_trip():
    throttle = Throttle()
    tickets = [throttle.acquire(20) for _ in range(START_IN_FLIGHT // 20)]
    held = []

    def third():
        held.append(throttle.acquire(20))

    waiting = threading.Thread(target=third)
    waiting.start()
    waiting.join(0.3)
    assert not held  # the limit holds it until a reply comes back
    throttle.release(tickets[0], 20, accepted=20)
    waiting.join(2)
    assert held and throttle.in_flight_limit == START_IN_FLIGHT + 20


def test_a_fixed_ceiling_stays_when_learning_is_off():
    throttle = Throttle(max_per_second=10, adaptive=False)
    ticket = throttle.acquire(10)
    throttle.release(ticket, 10, accepted=2, throttled=8)
    assert throttle.learned_rate is None and throttle.rate == 10.0


def test_reserve_sizes_a_batch_when_its_turn_comes():
    throttle = Throttle()
    ticket = throttle.acquire(20)
    throttle.release(ticket, 20, accepted=3, throttled=17)
    _, size = throttle.reserve(20)
    assert size == 3


# -- what one run tells the next --------------------------------------------------------------------
def test_a_clean_run_leaves_what_it_really_had_in_flight_and_the_next_starts_there():
    throttle = Throttle()
    assert throttle.pace() is None  # nothing answered yet: nothing learned
    tickets = [throttle.acquire(20) for _ in range(5)]
    for ticket in tickets:
        throttle.release(ticket, 20, accepted=20)
    assert throttle.pace() == {"in_flight": 100, "rate": None}
    bigger = Throttle()
    bigger.resume({"in_flight": 160, "rate": None})
    assert bigger.in_flight_limit == 160
    smaller = Throttle()
    smaller.resume({"in_flight": 20, "rate": None})  # never more cautious than a first run
    assert smaller.in_flight_limit == START_IN_FLIGHT


def test_a_throttled_run_leaves_its_learned_rate_and_the_next_starts_cautiously_and_learns_again():
    throttle = Throttle()
    ticket = throttle.acquire(20)
    throttle.release(ticket, 20, accepted=5, throttled=15)
    pace = throttle.pace()
    assert pace["rate"] == 5.0 and pace["in_flight"] >= 5
    following = Throttle()
    following.resume(pace)
    assert following.in_flight_limit == START_IN_FLIGHT and following.learned_rate is None


@pytest.mark.parametrize("pace", [None, {}, {"in_flight": "many"}, {"rate": "fast"}, "junk", {"rate": float("nan")}])
def test_an_unreadable_pace_is_ignored(pace):
    throttle = Throttle()
    throttle.resume(pace)
    assert throttle.in_flight_limit == START_IN_FLIGHT and throttle.learned_rate is None


def test_a_throttle_that_has_learned_for_itself_keeps_what_it_knows():
    throttle = Throttle()
    ticket = throttle.acquire(20)
    throttle.release(ticket, 20, accepted=4, throttled=16)
    throttle.resume({"in_flight": 2000, "rate": None})
    assert throttle.learned_rate == 4.0
    fixed = Throttle(max_per_second=10, adaptive=False)
    fixed.resume({"in_flight": 500, "rate": 50})
    assert fixed.learned_rate is None and fixed.in_flight_limit == START_IN_FLIGHT
