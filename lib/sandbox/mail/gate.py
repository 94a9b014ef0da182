"""Outlook's concurrency limit (§15): at most 4 requests at once per app and mailbox, the fifth gets 429.

A request holds its slot from arrival (before the sandbox's added latency) until its reply is written;
each mail item of a `$batch` holds one slot for the whole batch, as Outlook runs a batch's items side by
side, so a batch with five sendMail items for one mailbox has its fifth refused. Pure ASGI, placed
outside the faults middleware so that latency counts as time in flight.
"""
from __future__ import annotations

import contextvars
import json
from collections import Counter
from typing import Any
from urllib.parse import unquote

from ..graph.asgi import authenticate, error_reply, is_graph_path, request_ids, send_reply
from ..identity.tokens import InvalidToken
from .exceptions import MailboxConcurrency
from .urls import MAILBOX_PATH

LIMIT = 4
# `$batch` item ids (lower case) refused by the gate for the request being handled.
_REFUSED_ITEMS: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("refused_items", default=frozenset())


def refused_item(item: dict[str, Any]) -> MailboxConcurrency | None:
    """For the batch runner: the 429 for an item the gate refused, else None."""
    item_id = item.get("id")
    if isinstance(item_id, str) and item_id.lower() in _REFUSED_ITEMS.get():
        return MailboxConcurrency()
    return None


class MailboxGate:
    """Counts requests in flight per (client app, mailbox)."""

    def __init__(self, app, directory, stats, verifier, limit: int = LIMIT):
        self.app = app
        self.directory = directory
        self.stats = stats
        self.verifier = verifier
        self.limit = limit
        self.in_flight: Counter = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not is_graph_path(scope["path"]):
            return await self.app(scope, receive, send)
        claims = authenticate(scope, self.verifier)
        if isinstance(claims, InvalidToken):
            return await self.app(scope, receive, send)
        app_id, oid = claims.get("appid", ""), str(claims.get("oid", "")).lower()
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").split("/", 2)[-1]
        if path.split("?", 1)[0] == "$batch":
            return await self._batch(scope, receive, send, app_id, oid)
        mailbox = self._mailbox(path, oid)
        if mailbox is None:
            return await self.app(scope, receive, send)
        key = (app_id, mailbox)
        if self.in_flight[key] >= self.limit:
            self.stats.requests += 1
            self.stats.throttled += 1
            request_id, client_request_id = request_ids(scope)
            return await send_reply(send, error_reply(MailboxConcurrency(), request_id, client_request_id),
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
        held, refused = [], set()
        for item_id, url in _batch_items(b"".join(chunks)):
            mailbox = self._mailbox(url, oid)
            if mailbox is None:
                continue
            key = (app_id, mailbox)
            if self.in_flight[key] >= self.limit:
                refused.add(item_id.lower())
                self.stats.throttled += 1
                continue
            self.in_flight[key] += 1
            held.append(key)
        replay = iter(messages)

        async def replay_receive():
            return next(replay, {"type": "http.disconnect"})

        token = _REFUSED_ITEMS.set(frozenset(refused))
        try:
            await self.app(scope, replay_receive, send)
        finally:
            _REFUSED_ITEMS.reset(token)
            self._release(held)

    def _mailbox(self, path: str, oid: str) -> str | None:
        m = MAILBOX_PATH.match(path)
        if m is None:
            return None
        if m.group("user") is None:
            return oid
        key = unquote(m.group("user"))
        user = self.directory.user_by_id_or_upn(key)
        return user.id if user is not None else key.lower()

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
