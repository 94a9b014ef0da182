"""The one retry policy, for single requests and ``$batch`` items alike (shaped like urllib3's ``Retry``).

A ``Retry`` holds the settings and where one request stands (attempts made, seconds waited, whether
the token was refreshed). ``increment`` is told what happened to the latest attempt and returns a
``Decision``: send again after some seconds, refresh the token once, or give up. It never sleeps or
sends; the transport carries the decision out.

What is repeated: 429 until ``max_wait`` seconds of waiting in total; 503, 504 and the first-time
provisioning 409 (it comes with ``Retry-After``) up to ``total`` attempts; a dropped connection only
when the request never reached the server or is safe to repeat. Never repeated: a request that is
not safe to repeat after a 504 or a lost reply (an SMS is sent at most once), 400/403/404/412.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lib.graph.pacing import backoff_delay

RETRY = "retry"
REFRESH = "refresh"
GIVE_UP = "give_up"

# What happened on the wire, when no status came back.
UNSENT = "unsent"    # the request certainly never reached the server (connection refused, connect timeout)
LOST = "lost"        # sent, then the connection dropped: it may or may not have been carried out
FATAL = "fatal"      # TLS or an invalid address: trying again cannot help

RETRY_STATUSES = frozenset({429, 503, 504})
NEVER_RETRY = frozenset({400, 403, 404, 412})


@dataclass(frozen=True)
class Decision:
    """What to do after one attempt.

    ``action`` is RETRY (after ``delay`` seconds; ``shared`` when every worker should wait, as after a
    429), REFRESH (get a new token, then send again at once) or GIVE_UP. ``reason`` says why it gives
    up: "final" (the status is an answer), "attempts", "max_wait", "unknown_outcome" (sent, reply lost,
    not safe to repeat) or "fatal". ``retry`` is the state for the next attempt.
    """

    action: str
    retry: "Retry"
    delay: float = 0.0
    shared: bool = False
    reason: str = ""

    @property
    def gives_up(self) -> bool:
        return self.action == GIVE_UP


@dataclass(frozen=True)
class Retry:
    """Retry settings plus one request's state; immutable: ``increment`` returns the next state in its decision."""

    total: int = 6                 # attempts for 503/504/409 and dropped connections
    max_wait: float = 900.0        # seconds of waiting in total before a throttled request gives up
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    attempt: int = 1               # attempts made so far, counting the one being judged
    waited: float = 0.0            # seconds this request has waited before its retries
    throttled: int = 0             # 429s seen
    refreshed: bool = False

    def new(self) -> "Retry":
        """The same settings for a request that has not been sent yet."""
        return replace(self, attempt=1, waited=0.0, throttled=0, refreshed=False)

    def increment(self, *, status: int = 0, failure: str = "", retry_after: float | None = None,
                  idempotent: bool = True) -> Decision:
        """Judge the latest attempt: an HTTP ``status`` (>= 400), or a transport ``failure`` (UNSENT, LOST, FATAL)."""
        if failure:
            return self._after_failure(failure, idempotent)
        if status == 401:
            if self.refreshed:
                return self._give_up("final")
            return Decision(REFRESH, replace(self, attempt=self.attempt + 1, refreshed=True))
        if status == 429:
            return self._after_throttling(retry_after)
        if not retryable(status, retry_after, idempotent):
            return self._give_up("final")
        if self.attempt >= self.total:
            return self._give_up("attempts")
        delay = retry_after if retry_after is not None else self._backoff(self.attempt)
        return self._again(delay)

    # -- the cases ----------------------------------------------------------------------------------
    def _after_failure(self, failure: str, idempotent: bool) -> Decision:
        if failure == FATAL:
            return self._give_up("fatal")
        if failure == LOST and not idempotent:
            return self._give_up("unknown_outcome")
        if self.attempt >= self.total:
            return self._give_up("attempts")
        return self._again(self._backoff(self.attempt))

    def _after_throttling(self, retry_after: float | None) -> Decision:
        if self.waited >= self.max_wait:
            return self._give_up("max_wait")
        delay = retry_after if retry_after is not None else self._backoff(self.throttled + 1)
        return self._again(delay, shared=True, throttled=self.throttled + 1)

    def _again(self, delay: float, *, shared: bool = False, throttled: int | None = None) -> Decision:
        delay = max(0.0, float(delay))
        following = replace(self, attempt=self.attempt + 1, waited=self.waited + delay,
                            throttled=self.throttled if throttled is None else throttled)
        return Decision(RETRY, following, delay=delay, shared=shared)

    def _give_up(self, reason: str) -> Decision:
        return Decision(GIVE_UP, self, reason=reason)

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.backoff_base, self.backoff_cap)


def retryable(status: int, retry_after: float | None, idempotent: bool = True) -> bool:
    """True for a status worth sending again (before counting attempts or time)."""
    # The first-time provisioning 409 comes with Retry-After; any other 409 is final. A gateway
    # timeout may come after the work was done, so a request that must not run twice (SMS) is not
    # repeated: its 504 is reported for the person to decide.
    if status == 504 and not idempotent:
        return False
    return status in RETRY_STATUSES or (status == 409 and retry_after is not None)
