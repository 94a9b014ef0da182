"""Journal writes off the senders' path: one thread commits them, in order, while the requests go on.

A worker that has Graph's replies hands its journal writes over and sends its next request at once;
the writer thread joins whatever comes within GATHER into one transaction (group commit), so eight
workers no longer queue behind each other's commits. The journal lags Graph by GATHER and one commit:
a crash loses at most that, and Graph, which is the truth, still holds the meetings (the next run
confirms them). Where a lost write could matter, a text message sent, the caller waits for it
(``wait``), which commits at once.
"""

from __future__ import annotations

import queue
import threading
import time

from lib.bulk.journal import Journal, check_fields, pending_statements, record_statements

_STOP = object()
GATHER = 0.05  # seconds a commit waits for more writes: the most a crash can lose of what Graph did


class JournalWriter:
    """Commits journal writes on its own thread, in the order they were handed over.

    The first error (the journal could not be written) is kept: later writes are dropped, and
    ``wait`` and ``close`` raise it, so a run cannot end as if everything had been recorded.
    """

    def __init__(self, journal: Journal):
        self.journal = journal
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="journal-writer", daemon=True)
        self._thread.start()

    def pending(self, run_id: str, profile_key: str, flow: str, items) -> None:
        """``Journal.upsert_pending``, committed behind."""
        self._put(lambda: pending_statements(run_id, profile_key, flow, items))

    def record(self, *, updates=(), requests=(), history=()) -> None:
        """``Journal.record``, committed behind (unknown fields are refused at once, here; the SQL is built on
        the writer's thread, off the sender's way to its next request)."""
        check_fields(updates)
        self._put(lambda: record_statements(updates=updates, requests=requests, history=history))

    def wait(self) -> None:
        """Block until everything handed over so far is committed; raises the writer's error."""
        done = threading.Event()
        self._queue.put(done)
        done.wait()
        self._raise()

    def close(self) -> None:
        """Commit what is left and stop the thread; raises the writer's error."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise()

    def _put(self, build) -> None:
        self._raise()
        self._queue.put(build)

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _drain(self) -> None:
        while True:
            items = [self._queue.get()]
            # What comes within GATHER joins this commit: a commit costs the same for one batch's replies as for
            # several, and the CPU it takes is the senders'. Someone waiting (an Event, the close) cuts it short.
            until = time.monotonic() + GATHER
            while not isinstance(items[-1], threading.Event) and items[-1] is not _STOP:
                try:
                    items.append(self._queue.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            while True:  # and whatever else is there already
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            builds = [i for i in items if callable(i)]
            if builds and self._error is None:
                try:
                    self.journal.write([s for build in builds for s in build()])
                except BaseException as exc:  # kept for the run's thread, which reports it
                    self._error = exc
            for item in items:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is _STOP for item in items):
                return
