"""At most 4 requests at once per app and mailbox, the fifth gets 429 (Outlook §15, Bookings §14).

Outlook counts per user mailbox, Bookings per booking mailbox; each service gives a finder that names
the mailbox a path addresses and the error it answers with. A request holds its slot from arrival (before the sandbox's added latency) until its reply is written;
each mail item of a `$batch` holds one slot for the whole batch, as Outlook runs a batch's items side by
side, so a batch with five sendMail items for one mailbox has its fifth refused. Pure ASGI, placed
outside the faults middleware so that latency counts as time in flight.
"""
from __future__ import annotations

import contextvars
import json
from collections import Counter
from typing import Any

from typing import Callable

from .graph.asgi import authenticate, error_reply, is_graph_path, request_ids, send_reply
from .graph.exceptions import GraphError
from .identity.tokens import InvalidToken

# (path below the version, the caller's object id) -> (mailbox, the 429 to answer with), or None
Finder = Callable[[str, str], "tuple[str, Callable[[], GraphError]] | None"]

LIMIT = 4
# `$batch` item ids (lower case) refused by the gate for the request being handled.
_REFUSED_ITEMS: contextvars.ContextVar[dict[str, GraphError]] = contextvars.ContextVar("refused_items", default={})


def refused_item(item: dict[str, Any]) -> GraphError | None:
    """For the batch runner: the 429 for an item the gate refused, else None."""
    item_id = item.get("id")
    return _REFUSED_ITEMS.get().get(item_id.lower()) if isinstance(item_id, str) else None


class MailboxGate:
    """Counts requests in flight per (client app, mailbox)."""

    def __init__(self, app, finders: list[Finder], stats, verifier, limit: int = LIMIT):
        self.app = app
        self.finders = finders
        self.stats = stats
        self.verifier = verifier
        self.limit = limit
        self.in_flight: Counter = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not is_graph_path(scope["path"]):
            return await self.app(scope, receive, send)
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").split("/", 2)[-1]
        is_batch = path.split("?", 1)[0] == "$batch"
        if not is_batch and self._mailbox(path, "") is None:
            return await self.app(scope, receive, send)  # no mailbox: no need to read the token here
        claims = authenticate(scope, self.verifier)
        if isinstance(claims, InvalidToken):
            return await self.app(scope, receive, send)
        app_id, oid = claims.get("appid", ""), str(claims.get("oid", "")).lower()
        if is_batch:
            return await self._batch(scope, receive, send, app_id, oid)
        found = self._mailbox(path, oid)
        if found is None:
            return await self.app(scope, receive, send)
        key = (app_id, found[0])
        if self.in_flight[key] >= self.limit:
            self.stats.requests += 1
            self.stats.throttled += 1
            request_id, client_request_id = request_ids(scope)
            return await send_reply(send, error_reply(found[1](), request_id, client_request_id),
                                    request_id, client_request_id)
        self.in_flight[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._release([key])

    async def _batch(self, scope, receive, send, app_id: str, oid: str) -> None:
        messages, chunks = [], []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        held, refused = [], {}
        for item_id, url in _batch_items(b"".join(chunks)):
            found = self._mailbox(url, oid)
            if found is None:
                continue
            key = (app_id, found[0])
            if self.in_flight[key] >= self.limit:
                refused[item_id.lower()] = found[1]()
                self.stats.throttled += 1
                continue
            self.in_flight[key] += 1
            held.append(key)
        replay = iter(messages)

        async def replay_receive():
            return next(replay, {"type": "http.disconnect"})

        token = _REFUSED_ITEMS.set(refused)
        try:
            await self.app(scope, replay_receive, send)
        finally:
            _REFUSED_ITEMS.reset(token)
            self._release(held)

    def _mailbox(self, path: str, oid: str):
        for finder in self.finders:
            found = finder(path.lstrip("/"), oid)
            if found is not None:
                return found
        return None

    def _release(self, keys: list) -> None:
        for key in keys:
            self.in_flight[key] -= 1
            if self.in_flight[key] <= 0:
                del self.in_flight[key]


def _batch_items(raw: bytes) -> list[tuple[str, str]]:
    """(id, url) of each well-formed item of a `$batch` body; a malformed batch is the runner's to refuse."""
    try:
        body = json.loads(raw)
    except ValueError:
        return []
    items = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return []
    return [(item["id"], item["url"]) for item in items
            if isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("url"), str)]
