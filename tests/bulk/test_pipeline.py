"""The senders' pipeline: which batch goes next, in rounds of simulated round trips (no Graph needed)."""

import heapq
import threading
import time

from lib.bulk.pipeline import LATER, NEW, Pipeline
from lib.model.flows import RequestSpec


def spec(version: str) -> RequestSpec:
    return RequestSpec("joinLink", "GET", version, "0", None)


def simulate(rows: int, lanes: int = 8, steps: tuple[str, ...] = ("v1.0",), ahead: int | None = None) -> tuple[float, list]:
    """Every batch takes one round trip (lane i a little longer than lane i - 1, so the order is fixed): (rounds, batches sent).

    ``steps``: the Graph version of each request after the first, in order. ``ahead``: only that many rows at
    first, the rest added (as a checked spreadsheet's rest) when the first reply comes back.
    """
    names = [f"row{i}" for i in range(rows)]
    pipeline = Pipeline(names[:ahead], size=20, coming=ahead is not None)
    in_flight, sent, free, now = [], [], list(range(lanes)), 0.0

    def start(lane: int) -> bool:
        batch = pipeline._choose()  # what take() hands out, without blocking this single-threaded loop
        if batch is None:
            return False
        pipeline._in_flight[batch.kind] += 1
        sent.append(batch)
        heapq.heappush(in_flight, (now + 1 + lane / 1000, lane, len(sent), batch))
        return True

    while free and start(free[0]):
        free.pop(0)
    while in_flight:
        now, lane, _, batch = heapq.heappop(in_flight)
        free.append(lane)
        if ahead is not None and pipeline._coming:
            pipeline.add(names[ahead:])
            pipeline.close()
        later = []
        for item in batch.items:
            row, index = (item, 0) if batch.kind == NEW else (item[0], int(item[1].path) + 1)
            if index < len(steps):
                later.append((row, RequestSpec("joinLink", "GET", steps[index], str(index), None)))
        pipeline.done(batch, later)
        while free and start(free[0]):
            free.pop(0)
    return now, sent


def test_1000_rows_take_13_round_trips_of_full_batches_at_8_in_flight():
    # 100 batches of 20 at 8 in flight: 13 rounds at best. Finishing chunks first would take 14 (50 chunks / 8 lanes
    # = 7 chunks of 2 steps for some lanes while the others idle at the end).
    rounds, sent = simulate(1000)
    assert len(sent) == 100 and all(len(b.items) == 20 for b in sent)
    assert rounds < 13.5


def test_rows_finish_from_the_second_round_on():
    _, sent = simulate(1000)
    assert [b.kind for b in sent[:8]] == [NEW] * 8
    assert LATER in [b.kind for b in sent[8:16]] and NEW in [b.kind for b in sent[8:16]]  # both kinds under way


def test_a_batch_holds_one_graph_version():
    rounds, sent = simulate(300, steps=("beta", "v1.0"))
    for batch in sent:
        if batch.kind == LATER:
            assert len({s.version for _, s in batch.items}) == 1
    assert sum(len(b.items) for b in sent) == 900  # every row's three requests, none twice


def test_take_waits_for_batches_in_flight_and_ends_when_all_is_done():
    pipeline = Pipeline(["a", "b"], size=20, tick=0.05)
    first = pipeline.take()
    assert first.kind == NEW and first.items == ["a", "b"]
    got = []
    waiter = threading.Thread(target=lambda: got.append(pipeline.take()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # nothing ready yet, but the batch in flight may bring more
    pipeline.done(first, [("a", spec("v1.0"))])
    waiter.join(2)
    assert got[0].kind == LATER and [row for row, _ in got[0].items] == ["a"]
    pipeline.done(got[0], [])
    assert pipeline.take() is None


def test_a_cancelled_pipeline_hands_out_nothing_more():
    cancel = threading.Event()
    pipeline = Pipeline(list(range(100)), size=20, cancel=cancel)
    assert pipeline.take() is not None
    cancel.set()
    assert pipeline.take() is None


def test_rows_checked_while_the_first_go_out_cost_no_round_trip():
    for rows, rounds_at_best in ((1000, 13.5), (300, 4.5)):
        rounds, sent = simulate(rows, ahead=160)
        assert sorted(row for b in sent if b.kind == NEW for row in b.items) == sorted(f"row{i}" for i in range(rows))
        assert rounds < rounds_at_best
        assert all(len(b.items) == 20 for b in sent)


def test_while_more_may_come_take_waits_and_sends_no_half_batch():
    pipeline = Pipeline(list(range(25)), size=20, tick=0.05, coming=True)
    assert pipeline.take().items == list(range(20))
    got = []
    waiter = threading.Thread(target=lambda: got.append(pipeline.take()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # five rows are ready, but fifteen more may fill their batch
    pipeline.add(list(range(25, 40)))
    waiter.join(2)
    assert got[0].kind == NEW and got[0].items == list(range(20, 40))
    pipeline.add([40, 41])
    pipeline.close()
    assert pipeline.take().items == [40, 41]  # nothing more comes: the half batch goes


def test_take_ends_only_once_nothing_more_can_come():
    pipeline = Pipeline([], size=20, tick=0.05, coming=True)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pipeline.take()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()
    pipeline.close()
    waiter.join(2)
    assert got == [None]


def test_wait_hungry_returns_once_every_full_batch_of_new_appointments_is_taken():
    pipeline = Pipeline(list(range(45)), size=20, coming=True)
    waited = threading.Event()
    waiter = threading.Thread(target=lambda: (pipeline.wait_hungry(5), waited.set()))
    waiter.start()
    pipeline.take()
    waiter.join(0.2)
    assert not waited.is_set()  # a full batch still waits for a sender
    pipeline.take()
    waiter.join(2)
    assert waited.is_set()  # five left: not a full batch, they wait for the rest
    started = time.monotonic()
    Pipeline(list(range(5)), size=20, coming=True).wait_hungry(5)
    assert time.monotonic() - started < 1


def test_once_every_sender_has_a_batch_wait_hungry_lets_more_be_checked():
    pipeline = Pipeline(list(range(100)), size=20, coming=True, senders=2)
    waited = threading.Event()
    waiter = threading.Thread(target=lambda: (pipeline.wait_hungry(5), waited.set()))
    waiter.start()
    first = pipeline.take()
    waiter.join(0.2)
    assert not waited.is_set()  # a sender has nothing yet while full batches wait
    pipeline.take()
    waiter.join(2)
    assert waited.is_set()  # both senders busy: three full batches queued, and the check may go on
    pipeline.done(first, [])
    again = threading.Event()
    threading.Thread(target=lambda: (pipeline.wait_hungry(5), again.set())).start()
    assert not again.wait(0.2)  # a sender is free again, and work waits for it
    pipeline.take()
    assert again.wait(2)
