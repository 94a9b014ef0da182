"""Pacing requests: Retry-After, backoff, and the pause and rate ceiling shared by a run's workers."""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections import deque

def parse_retry_after(value, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: whole or fractional seconds, or an HTTP-date.

    None when missing or unreadable (the caller then backs off on its own).
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Capped exponential backoff with jitter for retry number ``attempt`` (1 = first retry)."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)


class Throttle:
    """Pacing shared by all workers of one run: one common pause after a 429, and an optional ceiling.

    ``max_per_second`` keeps a run under a tenant's limit with a sliding window (widened by
    ``margin`` seconds so that network jitter cannot push two windows' worth into one on the server).
    """

    def __init__(self, max_per_second: float | None = None, *, margin: float = 0.1):
        self.max_per_second = float(max_per_second) if max_per_second else None
        self.margin = margin
        self._lock = threading.Lock()
        self._pause_until = 0.0
        self._sent: deque[float] = deque()
        self.throttled = 0
        self.retries = 0
        self.pauses = 0

    # counters ------------------------------------------------------------------------------------
    def count(self, *, throttled: int = 0, retries: int = 0) -> None:
        with self._lock:
            self.throttled += throttled
            self.retries += retries

    # shared pause --------------------------------------------------------------------------------
    def pause(self, seconds: float) -> None:
        """Hold every worker for ``seconds`` from now (a longer pause already set wins)."""
        until = time.monotonic() + max(0.0, seconds)
        with self._lock:
            if until > self._pause_until:
                self._pause_until = until
                self.pauses += 1

    @property
    def paused_for(self) -> float:
        with self._lock:
            return max(0.0, self._pause_until - time.monotonic())

    def wait(self, cancel: threading.Event | None = None) -> None:
        """Block until the shared pause is over (or ``cancel`` is set)."""
        while True:
            remaining = self.paused_for
            if remaining <= 0:
                return
            if interruptible_sleep(remaining, cancel):
                return

    # rate ceiling --------------------------------------------------------------------------------
    def _window(self) -> tuple[int, float]:
        rate = self.max_per_second or 0.0
        if rate >= 1:
            return int(rate), 1.0 + self.margin
        return 1, 1.0 / rate + self.margin

    def acquire(self, n: int = 1, cancel: threading.Event | None = None) -> None:
        """Block until the pause is over and ``n`` more requests fit under the ceiling."""
        while True:
            self.wait(cancel)
            if cancel is not None and cancel.is_set():
                return
            if not self.max_per_second:
                return
            cap, window = self._window()
            with self._lock:
                now = time.monotonic()
                while self._sent and self._sent[0] <= now - window:
                    self._sent.popleft()
                if len(self._sent) + n <= cap or not self._sent:
                    self._sent.extend([now] * n)
                    return
                must_expire = min(len(self._sent), len(self._sent) + n - cap)
                delay = self._sent[must_expire - 1] + window - now
            if interruptible_sleep(max(delay, 0.001), cancel):
                return


def interruptible_sleep(seconds: float, cancel: threading.Event | None) -> bool:
    """Sleep; True when ``cancel`` was set meanwhile."""
    if cancel is None:
        time.sleep(seconds)
        return False
    return cancel.wait(seconds)
