"""Sending to Graph: one HTTP request, or one ``$batch`` of items, paced by the shared ``Throttle``.

Every attempt, single or batched, is judged by the same ``Retry`` policy (``lib.graph.retry``);
this module only carries its decisions out: wait (everyone waits after a 429), refresh the token,
send again, or turn the failure into a ``GraphError``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import uuid
import weakref
from typing import Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from lib.graph.errors import GraphError
from lib.graph.pacing import MAX_BATCH, Throttle, interruptible_sleep
from lib.graph.profile import origin
from lib.graph.redaction import redact
from lib.graph.response import GraphResponse, parse_body
from lib.graph.retry import FATAL, GIVE_UP, LOST, REFRESH, UNSENT, Decision, Retry
from lib.model.flows import RequestSpec

log = logging.getLogger("appointment_studio.graph")

# (status, parsed body, items) -> (items the server accepted, items it throttled)
Tally = Callable[[int, object, int], tuple[int, int]]

# client-request-id is a correlation id, not a secret: drawn without a system call (see GraphAdapter).
_request_ids = random.Random()
if hasattr(os, "register_at_fork"):  # a forked child draws its own ids (not on Windows, which does not fork)
    os.register_at_fork(after_in_child=_request_ids.seed)


def new_request_id() -> str:
    """A fresh client-request-id (a version 4 UUID)."""
    return str(uuid.UUID(int=_request_ids.getrandbits(128), version=4))


class GraphAdapter(HTTPAdapter):
    """requests' adapter, but the CA bundle's path is looked at once per connection pool, not at every request.

    Between a reply and the next request a sender should not give up Python's lock: every system call
    does (requests stats the CA path three times per request), and another thread then holds it for up
    to the switch interval while the sender waits to send. The two methods are requests' hooks for
    subclasses; what they decide depends only on their arguments, so it is kept.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pool_keys: dict = {}
        self._verified: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        parts = urlsplit(request.url)
        key = (parts.scheme.lower(), parts.hostname, parts.port, verify, cert)
        found = self._pool_keys.get(key)
        if found is None:
            found = self._pool_keys[key] = super().build_connection_pool_key_attributes(request, verify, cert)
        return dict(found[0]), dict(found[1])

    def cert_verify(self, conn, url, verify, cert):
        if self._verified.get(conn) != (verify, cert):
            super().cert_verify(conn, url, verify, cert)
            self._verified[conn] = (verify, cert)


class Transport:
    """One connection's way to Graph: a pooled session, the shared throttle and one retry policy.

    ``token(method, url, force_refresh)`` hands out access tokens (raising ``SignInFailed``);
    ``context(path)`` gives what ``explain`` needs to word an error for this connection.
    """

    def __init__(self, session: requests.Session, *, base_url: str, graph_host: str, verify, timeout,
                 throttle: Throttle, retry: Retry, token: Callable[..., str], context: Callable[[str], dict],
                 cancel: threading.Event | None = None):
        self.session = session
        self.base_url = base_url
        self.graph_host = graph_host
        self._own_root = base_url.rstrip("/") + "/" if origin(base_url) == graph_host else ""
        self.verify = verify
        self.timeout = timeout
        self.throttle = throttle
        self.retry = retry
        self.token = token
        self.context = context
        self.cancel = cancel

    # -- one request --------------------------------------------------------------------------------
    def request(self, method: str, url: str, body, *, idempotent: bool, headers: dict | None = None,
                path: str = "", weight: int = 1, tally: Tally | None = None,
                ticket: float | None = None) -> GraphResponse:
        """Send one request until it succeeds or the policy gives up (then raise ``GraphError``).

        ``ticket``: the throttle's turn already taken for the first attempt (``Throttle.reserve``).
        """
        self.check_host(url)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        client_request_id = new_request_id()
        retry = self.retry.new()
        while True:
            outcome = self._attempt(method, url, data, headers, client_request_id, weight, tally, retry.attempt, path,
                                    ticket)
            ticket = None
            if isinstance(outcome, GraphResponse):
                return outcome
            if isinstance(outcome, requests.RequestException):
                reason = describe(outcome)
                decision = retry.increment(failure=failure_kind(outcome), idempotent=idempotent)
                if decision.gives_up:
                    raise self._lost(decision.reason, reason, method, url, client_request_id, path) from None
                status = 0
            else:
                status = outcome.status
                decision = retry.increment(status=status, retry_after=outcome.retry_after, idempotent=idempotent)
                if decision.gives_up:
                    raise outcome
            if decision.action != REFRESH:
                self.throttle.count(retries=1, throttled=1 if status == 429 else 0)
            self._carry_out(decision, method, url)
            retry = decision.retry

    def _attempt(self, method, url, data, headers, client_request_id, weight, tally, attempt, path, ticket=None):
        """One send: a ``GraphResponse``, a ``GraphError`` from the reply, or the transport's exception."""
        if ticket is None:
            ticket = self.throttle.acquire(weight, self.cancel)
        try:
            self.check_cancel(method, url)
            send_headers = {"Accept": "application/json", "client-request-id": client_request_id}
            if data is not None:
                send_headers["Content-Type"] = "application/json"
            send_headers.update(headers or {})
            send_headers["Authorization"] = "Bearer " + self.token(method, url)
            reply = self.session.request(method, url, data=data, headers=send_headers, timeout=self.timeout,
                                         verify=self.verify, allow_redirects=False)
        except requests.RequestException as exc:
            self.throttle.release(ticket, weight, accepted=0)
            log.debug("%s %s -> connection error %s (attempt %d)", method, url, describe(exc), attempt)
            return exc
        except BaseException:
            self.throttle.release(ticket, weight, accepted=0)
            raise
        status = reply.status_code
        body = parse_body(reply.content, reply.headers.get("Content-Type", ""))
        accepted, throttled = (tally or _tally_single)(status, body, weight)
        self.throttle.release(ticket, weight, accepted=accepted, throttled=throttled)
        request_id = reply.headers.get("request-id", "")
        log.debug("%s %s -> %s request-id=%s attempt=%d", method, url, status, request_id, attempt)
        if 200 <= status < 400:
            return GraphResponse(status, reply.headers, body, request_id=request_id,
                                 client_request_id=client_request_id, attempts=attempt, method=method, url=url)
        return GraphError.from_reply(status, reply.headers, body, text=_text_of(reply), method=method, url=url,
                                     context=self.context(path))

    def _carry_out(self, decision: Decision, method: str, url: str) -> None:
        if decision.action == REFRESH:
            log.debug("%s %s -> 401; refreshing the token once", method, url)
            self.token(method, url, force_refresh=True)
        elif decision.shared:
            self.throttle.pause(decision.delay)  # every worker waits, not just this one
        else:
            self.wait(decision.delay, method, url)

    # -- one $batch ---------------------------------------------------------------------------------
    def batch(self, version: str, items: list[tuple[str, RequestSpec]], url_of: Callable[[str, str], str]) -> dict:
        """Send items in ``$batch`` requests sized by the throttle; key -> GraphResponse | GraphError.

        Items are matched by id in any order; each has its own ``Retry`` state, and only the items the
        policy repeats are sent again. An outer 200 is not success.
        """
        states = {key: self.retry.new() for key, _ in items}
        sent = {key: 0 for key, _ in items}
        results: dict = {}
        pending = list(items)
        while pending:
            decisions = []
            while pending:
                ticket, size = self.throttle.reserve(min(MAX_BATCH, len(pending)), self.cancel)
                chunk, pending = pending[:size], pending[size:]
                for key, spec, outcome in self._send_chunk(version, chunk, sent, url_of, ticket):
                    if isinstance(outcome, GraphResponse):
                        results[key] = outcome
                        continue
                    error, failure, exhausted = outcome
                    decision = states[key].increment(status=error.status, failure=failure,
                                                     retry_after=error.retry_after, idempotent=spec.idempotent)
                    if decision.action == GIVE_UP:
                        results[key] = exhausted if exhausted is not None and decision.reason == "attempts" else error
                        continue
                    states[key] = decision.retry
                    decisions.append((key, spec, decision, error.status))
            pending = [(key, spec) for key, spec, _, _ in decisions]
            if pending:
                self._carry_out_batch(version, decisions)
        return results

    def _carry_out_batch(self, version: str, decisions: list) -> None:
        url = f"{self.base_url}/{version}/$batch"
        if any(d.action == REFRESH for _, _, d, _ in decisions):
            self.token("POST", url, force_refresh=True)
        waiting = [d for _, _, d, _ in decisions if d.action != REFRESH]
        self.throttle.count(retries=len(waiting), throttled=sum(1 for *_, status in decisions if status == 429))
        shared = [d.delay for d in waiting if d.shared]
        alone = [d.delay for d in waiting if not d.shared]
        if shared:
            self.throttle.pause(max(shared))  # the next send waits for it, like every other worker
        if alone:
            self.wait(max(alone), "POST", url)

    def _send_chunk(self, version: str, chunk: list, sent: dict, url_of, ticket: float) -> list:
        """One ``$batch``: (key, spec, GraphResponse | (error, failure, error once attempts run out))."""
        url = f"{self.base_url}/{version}/$batch"
        ids = {str(i + 1): (key, spec) for i, (key, spec) in enumerate(chunk)}
        entries = []
        for item_id, (_, spec) in ids.items():
            entry = {"id": item_id, "method": spec.method, "url": spec.path}
            if spec.body is not None:
                entry["headers"] = {"Content-Type": "application/json"}
                entry["body"] = spec.body
            entries.append(entry)
        try:
            outer = self.request("POST", url, {"requests": entries}, path=f"/{version}/$batch", weight=len(chunk),
                                 idempotent=all(spec.idempotent for _, spec in chunk), tally=_tally_batch,
                                 ticket=ticket)
        except GraphError as exc:
            for key, _ in chunk:
                sent[key] += 1
            return [(key, spec, self._outer_failed(exc, spec, url_of(version, spec.path))) for key, spec in chunk]
        for key, _ in chunk:
            sent[key] += outer.attempts
        by_id = {}
        replies = outer.body.get("responses") if isinstance(outer.body, dict) else None
        for reply in replies if isinstance(replies, list) else []:
            if isinstance(reply, dict) and reply.get("id") is not None:
                by_id[str(reply["id"]).lower()] = reply
        return [(key, spec, self._item_outcome(by_id.get(item_id.lower()), spec, url_of(version, spec.path),
                                               outer, sent[key]))
                for item_id, (key, spec) in ids.items()]

    def _outer_failed(self, exc: GraphError, spec: RequestSpec, item_url: str):
        """The whole batch failed: final for every item, unless it may not have run (then the policy decides)."""
        if exc.code != "UnknownOutcome":
            return _item_error_like(exc, spec, item_url), "", None
        unknown = GraphError(0, "UnknownOutcome", exc.message, client_request_id=exc.client_request_id,
                             method=spec.method, url=item_url,
                             **self.explained(0, "UnknownOutcome", exc.message, spec.path))
        return unknown, LOST, self.connection_failed(exc.message, spec.method, item_url, "", spec.path)

    def _item_outcome(self, reply, spec: RequestSpec, item_url: str, outer: GraphResponse, attempts: int):
        if reply is None:
            error = GraphError(0, "UnknownOutcome", "the $batch reply did not include this request",
                               request_id=outer.request_id, method=spec.method, url=item_url,
                               **self.explained(0, "UnknownOutcome", "", spec.path))
            return error, LOST, None
        status = _int(reply.get("status"))
        headers = CaseInsensitiveDict(reply.get("headers") or {})
        body = reply.get("body")
        if isinstance(body, str) and "json" in headers.get("Content-Type", "").lower():
            body = parse_body(body.encode("utf-8"), "application/json")
        log.debug("$batch item %s %s -> %s (attempt %d)", spec.method, item_url, status, attempts)
        if 200 <= status < 400:
            return GraphResponse(status, headers, body, request_id=headers.get("request-id") or outer.request_id,
                                 attempts=attempts, method=spec.method, url=item_url)
        error = GraphError.from_reply(status, headers, body, method=spec.method, url=item_url,
                                      context=self.context(spec.path))
        if not error.request_id:
            error.request_id = outer.request_id
        return error, "", None

    # -- errors and waiting ---------------------------------------------------------------------------
    def explained(self, status: int, code: str, message: str, path: str) -> dict:
        from lib.graph.explain import explain

        what, fix = explain(status, code, message, **self.context(path))
        return {"explanation": what, "fix": fix}

    def connection_failed(self, reason: str, method: str, url: str, client_request_id: str, path: str):
        return GraphError(0, "ConnectionFailed", f"could not reach {self.graph_host} ({reason})",
                          client_request_id=client_request_id, method=method, url=url,
                          **self.explained(0, "ConnectionFailed", f"{self.graph_host}: {reason}", path))

    def _lost(self, why: str, reason: str, method: str, url: str, client_request_id: str, path: str):
        if why == "unknown_outcome":
            return GraphError(0, "UnknownOutcome", f"the connection dropped after {method} {path or url} was sent "
                              f"({reason})", client_request_id=client_request_id, method=method, url=url,
                              **self.explained(0, "UnknownOutcome", reason, path))
        return self.connection_failed(reason, method, url, client_request_id, path)

    def check_host(self, url: str) -> None:
        """Refuse to send the token anywhere but this connection's Graph host."""
        if self._own_root and url.startswith(self._own_root):
            return  # built on this connection's own root (every flow's request): no need to parse it
        if origin(url) != self.graph_host:
            raise GraphError(0, "ForeignHost",
                             f"refusing to send the access token to {origin(url)}; this connection's Graph host is "
                             f"{self.graph_host}", method="", url=url, **self.explained(0, "ForeignHost", "", ""))

    def check_cancel(self, method: str, url: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise GraphError(0, "Cancelled", "the run was cancelled", method=method, url=url)

    def wait(self, seconds: float, method: str, url: str) -> None:
        if interruptible_sleep(seconds, self.cancel):
            self.check_cancel(method, url)


def failure_kind(exc: requests.RequestException) -> str:
    """FATAL, UNSENT or LOST for a transport exception (see ``lib.graph.retry``)."""
    if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.InvalidURL,
                        requests.exceptions.InvalidHeader, requests.exceptions.MissingSchema)):
        return FATAL
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return UNSENT
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc.args[0]) if exc.args else ""
        if "NewConnectionError" in text or "Connection refused" in text:
            return UNSENT
    return LOST


def describe(exc: Exception) -> str:
    """A short, secret-free description of a transport exception."""
    text = str(exc)
    for marker in ("Connection refused", "RemoteDisconnected", "Connection reset", "Connection aborted",
                   "IncompleteRead", "Read timed out", "CERTIFICATE_VERIFY_FAILED", "timed out"):
        if marker in text:
            return f"{type(exc).__name__}: {marker}"
    return f"{type(exc).__name__}: {redact(text)[:200]}"


def _item_error_like(exc: GraphError, spec: RequestSpec, item_url: str) -> GraphError:
    """The outer batch's failure, reported against one of its items."""
    return GraphError(exc.status, exc.code, exc.message, request_id=exc.request_id,
                      client_request_id=exc.client_request_id, date=exc.date, method=spec.method,
                      url=item_url, explanation=exc.explanation, fix=exc.fix, retry_after=exc.retry_after)


def _tally_single(status: int, body, items: int) -> tuple[int, int]:
    if status == 429:
        return 0, items
    return (items, 0) if status < 500 else (0, 0)


def _tally_batch(status: int, body, items: int) -> tuple[int, int]:
    if status != 200:
        return _tally_single(status, body, items)
    replies = body.get("responses") if isinstance(body, dict) else None
    statuses = [_int(r.get("status")) for r in replies if isinstance(r, dict)] if isinstance(replies, list) else []
    throttled = sum(1 for s in statuses if s == 429)
    return len(statuses) - throttled, throttled


def _text_of(reply: requests.Response) -> str:
    try:
        return reply.text[:500]
    except Exception:  # undecodable body: the status says enough
        return ""


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
