"""Which requests the bulk runner's senders take next: new appointments' first steps, or later steps.

Each sender takes one batch at a time: either up to ``size`` appointments not started yet (their first
step, createOrGet) or up to ``size`` later steps (PUT virtualAppointment, the join link, an update, SMS)
of appointments under way, all of one Graph version. Later steps wait for their own appointment's
earlier step only, not for a whole chunk of 20.

New appointments may keep coming while the first are sent (``coming``, then ``add`` and ``close``): the
rest of a spreadsheet is checked meanwhile. Until then a new batch goes out only when it is full.

The choice keeps about half the batches in flight on each kind. Taking later steps first would finish
rows sooner but leaves most senders idle at the end of the run (1,000 rows at 8 in flight: 14 round
trips instead of 13); taking new rows first would finish nothing until every meeting exists.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

NEW, LATER = "new", "later"


@dataclass
class Batch:
    """What one sender sends at once: ``items`` are new appointments (kind NEW) or (appointment, request) pairs."""

    kind: str
    items: list = field(default_factory=list)


class Pipeline:
    """A thread-safe queue of work for the senders; ``take`` blocks until work is ready or all is done."""

    def __init__(self, new: list, *, size: int, cancel: threading.Event | None = None, tick: float = 0.5,
                 coming: bool = False, senders: int | None = None):
        self.size = max(1, int(size))
        self._senders = senders  # how many take batches: once each has one, none is kept waiting (wait_hungry)
        self._new = deque(new)
        self._coming = coming  # more new appointments may be added: ``take`` does not end the run yet
        self._later: deque = deque()  # (appointment, request spec) ready to go, oldest first
        self._in_flight = {NEW: 0, LATER: 0}
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # senders wait on it for work
        self._fed = threading.Condition(lock)  # wait_hungry waits on it for the senders to take work
        self._cancel = cancel or threading.Event()
        self._tick = tick

    def take(self) -> Batch | None:
        """The next batch, or None once nothing is left to send (or the run is cancelled)."""
        with self._cond:
            while not self._cancel.is_set():
                batch = self._choose()
                if batch is not None:
                    self._in_flight[batch.kind] += 1
                    self._fed.notify_all()
                    return batch
                if not self._in_flight[NEW] and not self._in_flight[LATER] and not self._coming:
                    return None  # nothing ready and nothing in flight that could make more
                self._cond.wait(self._tick)  # a batch in flight may bring later steps
            return None

    def done(self, batch: Batch, later: list) -> None:
        """``batch`` has been sent; ``later`` holds the (appointment, request) steps it made ready."""
        with self._cond:
            self._in_flight[batch.kind] -= 1
            self._later.extend(later)
            self._cond.notify_all()
            self._fed.notify_all()

    def wait_hungry(self, timeout: float) -> None:
        """Block while a full batch of new appointments waits for a sender that has none (or ``timeout`` seconds).

        Whoever adds more (checking the rest of a file) waits for this first: the senders of what is
        ready need the CPU for a moment before they wait on Graph. Once every sender has a batch, more
        may be checked at once, however much is queued.
        """
        def nobody_kept_waiting():
            busy = self._senders is not None and sum(self._in_flight.values()) >= self._senders
            return len(self._new) < self.size or busy or not self._coming or self._cancel.is_set()

        with self._fed:
            self._fed.wait_for(nobody_kept_waiting, timeout)

    def add(self, new: list) -> None:
        """More new appointments, after those given so far."""
        with self._cond:
            self._new.extend(new)
            self._cond.notify_all()

    def close(self) -> None:
        """No more new appointments will be added."""
        with self._cond:
            self._coming = False
            self._cond.notify_all()
            self._fed.notify_all()

    def _choose(self) -> Batch | None:
        new_ready = len(self._new) >= self.size or (self._new and not self._coming)  # no half batch while more come
        take_later = self._later and (not new_ready or self._in_flight[LATER] < self._in_flight[NEW])
        if take_later:
            version = self._later[0][1].version  # one batch, one Graph version
            items, keep = [], deque()
            while self._later and len(items) < self.size:
                item = self._later.popleft()
                (items if item[1].version == version else keep).append(item)
            keep.extend(self._later)
            self._later = keep
            return Batch(LATER, items)
        if new_ready:
            return Batch(NEW, [self._new.popleft() for _ in range(min(self.size, len(self._new)))])
        return None
