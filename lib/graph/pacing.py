"""Pacing requests: Retry-After, backoff, and the pause, rate and in-flight limits shared by a run's workers.

A tenant's limit is unknown, so ``Throttle`` learns it: after a 429 it keeps only as many items per
second as the server accepted in the second before (fewer in flight too), then slowly allows more
while nothing is refused (additive increase, multiplicative decrease, as TCP does). A ``$batch``
counts as its number of items, which is how Graph counts it.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections import deque

MAX_BATCH = 20
START_IN_FLIGHT = 100         # items in flight before the first reply; doubles per round trip until a 429
MAX_IN_FLIGHT = 2000
CLEAN_WINDOWS_PER_STEP = 10   # windows without a 429 before one more item per second is tried
DECREASE = 0.7                # what is kept when the server's own count cannot be read


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
    """Pacing shared by all workers of one run: a common pause after a 429, a rate and an in-flight limit.

    ``max_per_second`` is a fixed ceiling (the profile's or ``--max-rate``); without it the ceiling is
    learned from Graph's 429s (``adaptive=False`` turns learning off). A request counts toward the
    window from its reply's time (the server counted it at some moment before), so delivery delays
    cannot push two windows' worth into one on the server; ``margin`` seconds widen each window a little
    more. Call ``acquire`` (or ``reserve`` for a batch) before a request and ``release`` with its ticket
    when its reply is read.
    """

    def __init__(self, max_per_second: float | None = None, *, margin: float = 0.02, adaptive: bool = True,
                 start_in_flight: int = START_IN_FLIGHT):
        self.max_per_second = float(max_per_second) if max_per_second else None
        self.margin = margin
        self.adaptive = adaptive
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._pause_until = 0.0
        self._sent: deque[list] = deque()                 # [counted at, items]: moved to the reply's time
        self._open: dict[float, list] = {}
        self._acks: deque[tuple[float, int]] = deque()   # (sent at, items accepted)
        self.learned_rate: float | None = None
        self.in_flight_limit = float(max(1, start_in_flight))
        self._slow_start = True
        self._in_flight = 0
        self._decreased_at = 0.0
        self._rate_before = None
        self._credit = 0
        self.throttled = 0
        self.retries = 0
        self.pauses = 0
        self._peak_in_flight = 0
        self._replies = 0

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

    def notice(self) -> str | None:
        """What a progress display says while Graph's pause is in force (None when nothing is held)."""
        remaining = self.paused_for
        if remaining <= 0:
            return None
        return f"Graph asked us to slow down: waiting {max(1, math.ceil(remaining))} s"

    def wait(self, cancel: threading.Event | None = None) -> None:
        """Block until the shared pause is over (or ``cancel`` is set)."""
        while True:
            remaining = self.paused_for
            if remaining <= 0:
                return
            if interruptible_sleep(remaining, cancel):
                return

    # what a tenant accepted, for the next run -----------------------------------------------------
    def pace(self) -> dict | None:
        """What this run learned of the server: the items it had in flight unrefused, and the rate learned
        from 429s (None while nothing was answered). ``resume`` starts the next run from it."""
        with self._lock:
            if not self._replies:
                return None
            if self.learned_rate is None:  # never refused: what was really in flight is proven
                return {"in_flight": self._peak_in_flight, "rate": None}
            return {"in_flight": int(self.in_flight_limit), "rate": self.learned_rate}

    def resume(self, pace: dict | None) -> None:
        """Start from a previous run's ``pace`` against the same tenant: as many items in flight as it had
        with none refused, instead of the cautious first window (the window still grows, and a 429 still
        slows it down).

        A run that was throttled leaves its learned rate, but the next one starts cautiously and learns
        again: a rate learned early in a run (less than a second of replies) is an underestimate, and kept
        as a ceiling it would grow by one request a second. Only an unused throttle takes a pace.
        """
        if not pace or not self.adaptive:
            return
        with self._lock:
            if self._replies or self._in_flight:
                return
            try:
                in_flight = int(pace.get("in_flight") or 0)
                throttled = bool(pace.get("rate"))
            except (TypeError, ValueError, AttributeError):
                return  # an unreadable record is ignored: the run starts cautiously
            if not throttled and in_flight > self.in_flight_limit:
                self.in_flight_limit = float(min(MAX_IN_FLIGHT, in_flight))

    # limits --------------------------------------------------------------------------------------
    @property
    def rate(self) -> float | None:
        """Items per second allowed now: the fixed ceiling, the learned one, or None (no limit)."""
        rates = [r for r in (self.max_per_second, self.learned_rate) if r]
        return min(rates) if rates else None

    def _window(self) -> tuple[int, float]:
        rate = self.rate or 0.0
        if rate >= 1:
            return int(rate), 1.0 + self.margin
        return 1, 1.0 / rate + self.margin

    def chunk_size(self, largest: int = MAX_BATCH) -> int:
        """How many items one ``$batch`` should carry now (a batch larger than a window would be refused)."""
        with self._lock:
            return self._chunk_size(largest)

    def _chunk_size(self, largest: int) -> int:
        size = min(largest, int(self.in_flight_limit))
        if self.rate:
            size = min(size, self._window()[0])
        return max(1, size)

    def acquire(self, n: int = 1, cancel: threading.Event | None = None) -> float:
        """Block until the pause is over and ``n`` more items fit the limits; returns the ticket for ``release``."""
        return self._take(n, cancel, sized=False)[0]

    def reserve(self, largest: int, cancel: threading.Event | None = None) -> tuple[float, int]:
        """Like ``acquire`` for a ``$batch``: (ticket, how many of up to ``largest`` items to send now).

        The size is decided when the turn comes, so a batch formed before a 429 is not sent too large.
        """
        return self._take(largest, cancel, sized=True)

    def _take(self, n: int, cancel: threading.Event | None, *, sized: bool) -> tuple[float, int]:
        while True:
            self.wait(cancel)
            if cancel is not None and cancel.is_set():
                return time.monotonic(), n
            with self._lock:
                if sized:
                    n = min(n, self._chunk_size(n))
                if self._in_flight and self._in_flight + n > self.in_flight_limit:
                    self._freed.wait(0.05)
                    continue
                delay = self._rate_delay(n, time.monotonic())
                if delay <= 0:
                    now = time.monotonic()
                    while now in self._open:
                        now += 1e-9
                    entry = [now, n]
                    self._sent.append(entry)
                    self._open[now] = entry
                    self._in_flight += n
                    self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
                    return now, n
            if interruptible_sleep(max(delay, 0.001), cancel):
                return time.monotonic(), n

    def _rate_delay(self, n: int, now: float) -> float:
        """Seconds until ``n`` items fit under the rate (0: now); forgets what left the window."""
        horizon = now - 2.0 - self.margin
        while self._acks and self._acks[0][0] < horizon:
            self._acks.popleft()
        cap, window = self._window() if self.rate else (0, 0.0)
        while self._sent and self._sent[0][0] <= now - max(window, 2.0 + self.margin):
            self._sent.popleft()
        if not self.rate:
            return 0.0
        recent = sorted(t for t, k in self._sent if t > now - window for _ in range(k))
        if len(recent) + n <= cap or not recent:
            return 0.0
        must_expire = min(len(recent), len(recent) + n - cap)
        return recent[must_expire - 1] + window - now

    def release(self, ticket: float, n: int = 1, *, accepted: int | None = None, throttled: int = 0) -> None:
        """A request of ``n`` items sent at ``ticket`` has its reply: ``accepted`` items, ``throttled`` 429s."""
        accepted = (n - throttled) if accepted is None else accepted
        with self._lock:
            entry = self._open.pop(ticket, None)
            if entry is None:
                return  # never counted (the run was cancelled while it waited its turn)
            # The server counted it somewhere between sending and the reply: the later time is the safe one.
            entry[0] = max(entry[0], time.monotonic())
            self._in_flight = max(0, self._in_flight - entry[1])
            self._replies += 1
            self._freed.notify_all()
            if accepted:
                self._acks.append((ticket, accepted))
            if not self.adaptive:
                return
            if throttled:
                self._slow_down(ticket, accepted)
            elif accepted:
                self._speed_up(accepted)

    def _slow_down(self, ticket: float, accepted: int) -> None:
        # What the server accepted around this request is the best guess of its limit per second.
        admitted = sum(k for t, k in self._acks if ticket - 1.0 < t <= ticket + 0.05)
        if ticket < self._decreased_at:
            # A reply from the burst already acted on: it may only correct the guess upwards, with a count.
            if admitted and admitted <= (self._rate_before or admitted):
                self.learned_rate = max(self.learned_rate or 1.0, float(admitted))
            return
        current = self.learned_rate
        if admitted and (current is None or admitted < current):
            guess = float(admitted)
        elif current is not None:
            guess = current * DECREASE
        else:
            guess = sum(k for t, k in self._sent if ticket - 1.0 < t <= ticket + 1.0) * DECREASE
        self._rate_before = current
        self.learned_rate = max(1.0, guess)
        self._decreased_at = time.monotonic()
        self.in_flight_limit = max(self.learned_rate, self.in_flight_limit * DECREASE, 1.0)
        self._slow_start = False
        self._credit = 0

    def _speed_up(self, accepted: int) -> None:
        if self._slow_start:
            self.in_flight_limit = min(MAX_IN_FLIGHT, self.in_flight_limit + accepted)
            return
        self.in_flight_limit = min(MAX_IN_FLIGHT, self.in_flight_limit + accepted / self.in_flight_limit)
        if self.learned_rate is None:
            return
        self._credit += accepted
        if self._credit >= max(1.0, self.learned_rate) * CLEAN_WINDOWS_PER_STEP:
            self._credit = 0
            self.learned_rate += 1.0


def interruptible_sleep(seconds: float, cancel: threading.Event | None) -> bool:
    """Sleep; True when ``cancel`` was set meanwhile."""
    if cancel is None:
        time.sleep(seconds)
        return False
    return cancel.wait(seconds)
