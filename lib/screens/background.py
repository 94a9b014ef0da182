"""Work that outlives one run of a page script: a bulk run or a sign-in, on a thread of its own.

A page starts the work, keeps the object in its session, and polls it on every rerun; the work
never touches the page. Errors are kept and shown later, never lost with the thread.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable


class BackgroundTask:
    """Call ``target()`` on a daemon thread; ``result`` or ``error`` once ``done``."""

    def __init__(self, target: Callable[[], Any], *, name: str = "background"):
        self._target = target
        self.result: Any = None
        self.error: BaseException | None = None
        self.started_at = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "BackgroundTask":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = self._target()
        except BaseException as exc:  # kept for the page to explain; a thread has no one else to tell
            self.error = exc
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done (tests and scripts); True when it finished."""
        return self._done.wait(timeout)


class BackgroundRun(BackgroundTask):
    """A ``Runner.run`` on its own thread, with Cancel and a progress snapshot to poll."""

    def __init__(self, runner, appointments: list, *, source: str = "", invalid_rows: list = ()):
        self.runner = runner
        self.total = len(appointments)
        super().__init__(lambda: runner.run(appointments, source=source, invalid_rows=list(invalid_rows)),
                         name="bulk-run")

    @property
    def progress(self):
        """The runner's live counts (done, created, existing, failed, time left)."""
        return self.runner.progress

    def cancel(self) -> None:
        """Stop after the requests in flight; what is finished stays in the journal."""
        self.runner.cancel.set()

    @property
    def cancelling(self) -> bool:
        return self.runner.cancel.is_set() and not self.done
