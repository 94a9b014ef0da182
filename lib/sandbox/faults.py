"""Latency, rate limiting and injected faults: one policy, applied by a pure-ASGI middleware
around the Graph surface (and per item inside `$batch`)."""
from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .graph.asgi import authenticate, error_reply, is_graph_path, request_ids, send_reply
from .graph.exceptions import GatewayTimeout, GraphError, ServiceUnavailable, TooManyRequests
from .identity.tokens import InvalidToken

FAULT_KINDS = ("429", "503", "504", "reset", "lost")
ITEM_KINDS = ("429", "503", "504")
CONNECTION_KINDS = ("reset", "lost")


class SettingError(ValueError):
    """A flag or config value that cannot be used; the message is for a person."""


def parse_latency(value: Any) -> tuple[float, float] | None:
    """`MS` or `MIN-MAX` (milliseconds) → (min, max); None or 0 → no latency."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low = high = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*(-\s*\d+(\.\d+)?\s*)?", value):
        parts = [float(p) for p in value.split("-")]
        low, high = parts[0], parts[-1]
    else:
        raise SettingError(f"--latency: expected MS or MIN-MAX in milliseconds (e.g. 100 or 50-150), got {value!r}")
    if low < 0 or high < low:
        raise SettingError(f"--latency: expected 0 <= MIN <= MAX, got {value!r}")
    return None if high == 0 else (low, high)


def parse_rate_limit(value: Any) -> int | None:
    if value is None or value == 0 or value == "0":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = -1
    if isinstance(value, bool) or n < 1 or (isinstance(value, float) and value != n):
        raise SettingError(f"--rate-limit: expected a whole number of requests per second >= 1, got {value!r}")
    return n


def parse_faults(value: Any) -> dict[str, float]:
    """`KIND=PROBABILITY,...` (kinds 429, 503, 504, reset, lost) or a dict of the same."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for part in value.split(","):
            kind, sep, prob = part.partition("=")
            if not sep:
                raise SettingError(f"--faults: expected KIND=PROBABILITY, got {part.strip()!r}")
            pairs.append((kind.strip(), prob.strip()))
    else:
        raise SettingError(f"--faults: expected a string like 429=0.05,lost=0.03, got {value!r}")
    out: dict[str, float] = {}
    for kind, prob in pairs:
        if kind not in FAULT_KINDS:
            raise SettingError(f"--faults: unknown kind {kind!r}; use {', '.join(FAULT_KINDS)}")
        try:
            p = float(prob)
        except (TypeError, ValueError):
            raise SettingError(f"--faults: probability for {kind} must be a number, got {prob!r}") from None
        if not 0 <= p <= 1 or math.isnan(p):
            raise SettingError(f"--faults: probability for {kind} must be between 0 and 1, got {prob!r}")
        out[kind] = p
    if sum(out.values()) > 1 + 1e-9:
        raise SettingError("--faults: the probabilities add up to more than 1")
    return out


def parse_seed(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise SettingError(f"--seed: expected a whole number, got {value!r}") from None


@dataclass
class Stats:
    """Counters since the process started."""
    requests: int = 0
    batch_items: int = 0
    throttled: int = 0
    faults_injected: int = 0
    by_fault: dict[str, int] = field(default_factory=lambda: {k: 0 for k in FAULT_KINDS})
    started_at: float = field(default_factory=time.time)

    def reset(self) -> None:
        self.requests = self.batch_items = self.throttled = self.faults_injected = 0
        self.by_fault = {k: 0 for k in FAULT_KINDS}


class FaultPolicy:
    """Current latency, rate limit and fault settings, with the random stream they draw from."""

    def __init__(self, stats: Stats, latency=None, rate_limit=None, faults=None, seed=None):
        self.stats = stats
        self.latency = parse_latency(latency)
        self.rate_limit = parse_rate_limit(rate_limit)
        self.faults = parse_faults(faults)
        self.seed = parse_seed(seed)
        self.rng = random.Random(self.seed)
        self.windows: dict[str, deque] = {}

    def configure(self, **changes: Any) -> None:
        """Change settings at runtime (None/0 turns one off); a new seed restarts the random stream."""
        parsed = {}
        if "latency" in changes:
            parsed["latency"] = parse_latency(changes["latency"])
        if "rate_limit" in changes:
            parsed["rate_limit"] = parse_rate_limit(changes["rate_limit"])
        if "faults" in changes:
            parsed["faults"] = parse_faults(changes["faults"])
        if "seed" in changes:
            parsed["seed"] = parse_seed(changes["seed"])
        for k, v in parsed.items():
            setattr(self, k, v)
        if "seed" in parsed:
            self.rng = random.Random(self.seed)
        if "rate_limit" in parsed:
            self.windows.clear()

    def describe(self) -> dict[str, Any]:
        latency = None
        if self.latency:
            low, high = self.latency
            latency = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        return {"latency": latency, "rate_limit": self.rate_limit,
                "faults": ",".join(f"{k}={v:g}" for k, v in self.faults.items()) or None, "seed": self.seed}

    def latency_seconds(self) -> float:
        if not self.latency:
            return 0.0
        low, high = self.latency
        return (low if low == high else self.rng.uniform(low, high)) / 1000

    def admit(self, client_id: str) -> GraphError | None:
        """Sliding one-second window per client app; refused requests count too."""
        if not self.rate_limit:
            return None
        now = time.monotonic()
        window = self.windows.setdefault(client_id, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        window.append(now)
        if len(window) <= self.rate_limit:
            return None
        self.stats.throttled += 1
        # Room returns once enough of the window's entries age out.
        free_at = window[len(window) - self.rate_limit - 1] + 1.0
        retry = max(1, math.ceil(free_at - now))
        return TooManyRequests(f"Too many requests: this app is limited to {self.rate_limit} requests per second "
                               "in the sandbox. Retry after the number of seconds in Retry-After.",
                               headers={"Retry-After": str(retry)})

    def draw(self, kinds: tuple[str, ...]) -> str | None:
        """One fault kind among `kinds` by its probability, or None."""
        if not self.faults:
            return None
        u = self.rng.random()
        for kind in kinds:
            p = self.faults.get(kind, 0.0)
            if u < p:
                self.stats.faults_injected += 1
                self.stats.by_fault[kind] += 1
                return kind
            u -= p
        return None

    def item_fault(self, client_id: str) -> GraphError | None:
        """Rate limit, then an injected 429/503/504, for one request (or one `$batch` item)."""
        refusal = self.admit(client_id)
        if refusal is not None:
            return refusal
        return fault_error(self.draw(ITEM_KINDS))

    def shuffle(self, items: list) -> None:
        self.rng.shuffle(items)


def fault_error(kind: str | None) -> GraphError | None:
    if kind == "429":
        return TooManyRequests("Injected fault: too many requests. Retry after the number of seconds in "
                               "Retry-After.", headers={"Retry-After": "1.5"})
    if kind == "503":
        return ServiceUnavailable("Injected fault: the service is temporarily unavailable.",
                                  headers={"Retry-After": "1"})
    if kind == "504":
        return GatewayTimeout("Injected fault: the gateway timed out.")
    return None


class FaultsMiddleware:
    """Pure ASGI: latency, then 401 passes through, then 429 rate limit, then injected faults."""

    def __init__(self, app, policy: FaultPolicy, verifier):
        self.app = app
        self.policy = policy
        self.verifier = verifier

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not is_graph_path(scope["path"]):
            return await self.app(scope, receive, send)
        policy = self.policy
        policy.stats.requests += 1
        delay = policy.latency_seconds()
        if delay:
            await asyncio.sleep(delay)
        claims = authenticate(scope, self.verifier)
        if isinstance(claims, InvalidToken):
            return await self.app(scope, receive, send)
        if scope["path"].endswith("/$batch"):
            kind = policy.draw(CONNECTION_KINDS)   # items draw their own 429/503/504
        else:
            refusal = policy.admit(claims.get("appid", ""))
            if refusal is not None:
                return await self._reply(scope, send, refusal)
            kind = policy.draw(FAULT_KINDS)
        if kind == "reset":
            return await _drop(send)
        if kind == "lost":
            return await self.app(scope, receive, _LoseReply(send))
        err = fault_error(kind)
        if err is not None:
            return await self._reply(scope, send, err)
        await self.app(scope, receive, send)

    @staticmethod
    async def _reply(scope, send, err: GraphError) -> None:
        request_id, client_request_id = request_ids(scope)
        await send_reply(send, error_reply(err, request_id, client_request_id), request_id, client_request_id)


async def _drop(send) -> None:
    # Headers promising a body, then nothing: uvicorn closes the connection and the client's read fails.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


class _LoseReply:
    """Passes the reply's start through and swallows its body, so the connection drops mid-reply."""

    def __init__(self, send):
        self.send = send

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", b"64"))
            await self.send({**message, "headers": headers})


class DroppedConnectionFilter(logging.Filter):
    """Hides uvicorn's error lines for connections dropped on purpose and for idle keep-alives at shutdown."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "without completing response" not in message and "timeout graceful shutdown" not in message
