"""JSON batching (§11): validate the whole batch, then run each item through the same dispatcher."""
from __future__ import annotations

from typing import Any

from .exceptions import BadRequest, FailedDependency, GraphError
from .request import GraphRequest, GraphResponse, _UNSET
from .dispatch import Dispatcher, error_json

MAX_ITEMS = 20
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


class BatchRunner:
    """Runs `POST /{version}/$batch` for a dispatcher; faults and rate limits apply per item."""

    def __init__(self, dispatcher: Dispatcher, policy, stats):
        self.dispatcher = dispatcher
        self.policy = policy
        self.stats = stats
        self.item_checks: list = []   # more per-item refusals (the mailbox concurrency gate's 429)

    def __call__(self, req: GraphRequest) -> GraphResponse:
        items = _validate(req.json())
        by_id = {item["id"].lower(): item for item in items}
        results: dict[str, dict[str, Any]] = {}
        for item in _execution_order(items, by_id):
            failed = next((d for d in item.get("dependsOn") or [] if results[d.lower()]["status"] >= 400), None)
            if failed is not None:
                err = FailedDependency(f"Dependency '{failed}' failed.")
                results[item["id"].lower()] = self._error(item, err, req)
                continue
            results[item["id"].lower()] = self._run(item, req)
        ordered = [results[item["id"].lower()] for item in items]
        self.policy.shuffle(ordered)
        return GraphResponse(200, {"responses": ordered})

    def _run(self, item: dict[str, Any], outer: GraphRequest) -> dict[str, Any]:
        url = item["url"]
        if "://" in url or url.startswith("//"):
            return self._error(item, BadRequest("Batch request URLs must be relative to the version root, "
                                                f"e.g. '/me/onlineMeetings', not '{url}'."), outer)
        path, _, query = url.lstrip("/").partition("?")
        first = path.split("/", 1)[0].lower()
        if first in ("v1.0", "beta"):
            return self._error(item, BadRequest(f"Batch request URL '{url}' repeats the version; URLs are "
                                                "relative to the version root."), outer)
        if first == "$batch":
            return self._error(item, BadRequest("A $batch request cannot contain another $batch."), outer)
        self.stats.batch_items += 1
        fault = self.policy.item_fault(outer.caller.client_id)
        for check in self.item_checks:
            fault = fault or check(item)
        if fault is not None:
            return self._error(item, fault, outer)
        headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
        sub = GraphRequest(item["method"], outer.version, path, query, headers, b"", base_url=outer.base_url,
                           request_id=outer.request_id,
                           client_request_id=headers.get("client-request-id") or outer.client_request_id,
                           parsed_body=item["body"] if "body" in item else _UNSET)
        sub.caller = outer.caller
        resp = self.dispatcher.handle(sub)
        return _item(item["id"], resp.status, resp.headers, resp.body)

    def _error(self, item: dict[str, Any], err: GraphError, outer: GraphRequest) -> dict[str, Any]:
        return _item(item["id"], err.status, dict(err.headers),
                     error_json(err, outer.request_id, outer.client_request_id))


def _item(item_id: str, status: int, headers: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item_id, "status": status}
    headers = dict(headers)
    if body is not None:
        headers["Content-Type"] = JSON_TYPE
    if headers:
        out["headers"] = headers
    if body is not None:
        out["body"] = body
    return out


def _validate(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's items, or a 400 for the whole batch (nothing runs)."""
    items = body.get("requests")
    if not isinstance(items, list):
        raise BadRequest("Invalid batch payload format: 'requests' must be an array.")
    if not items:
        raise BadRequest("Invalid batch payload format: the batch contains no requests.")
    if len(items) > MAX_ITEMS:
        raise BadRequest(f"Invalid batch payload format: at most {MAX_ITEMS} requests per batch "
                         f"(got {len(items)}).")
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"Invalid batch payload format: request {i} is not an object.")
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise BadRequest(f"Invalid batch payload format: request {i} has no 'id'.")
        if item_id.lower() in seen:
            raise BadRequest(f"Invalid batch payload format: duplicate request id '{item_id}'.")
        seen.add(item_id.lower())
        if not isinstance(item.get("method"), str) or not item["method"]:
            raise BadRequest(f"Invalid batch payload format: request '{item_id}' has no 'method'.")
        if not isinstance(item.get("url"), str) or not item["url"]:
            raise BadRequest(f"Invalid batch payload format: request '{item_id}' has no 'url'.")
        headers = item.get("headers")
        if headers is not None and not isinstance(headers, dict):
            raise BadRequest(f"Invalid batch payload format: request '{item_id}' headers must be an object.")
        if "body" in item and item["body"] is not None:
            if not headers or not any(str(k).lower() == "content-type" for k in headers):
                raise BadRequest(f"Invalid batch payload format: request '{item_id}' has a body but no "
                                 "Content-Type header.")
        depends = item.get("dependsOn")
        if depends is not None and (not isinstance(depends, list) or
                                    not all(isinstance(d, str) for d in depends)):
            raise BadRequest(f"Invalid batch payload format: request '{item_id}' dependsOn must be a list of ids.")
    for item in items:
        for dep in item.get("dependsOn") or []:
            if dep.lower() not in seen:
                raise BadRequest(f"Invalid batch payload format: request '{item['id']}' depends on unknown "
                                 f"request '{dep}'.")
    return items


def _execution_order(items: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Listed order, each item after its dependencies; a cycle → 400."""
    order: list[dict[str, Any]] = []
    state: dict[str, int] = {}   # 1 visiting, 2 done

    def visit(item: dict[str, Any]) -> None:
        key = item["id"].lower()
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise BadRequest(f"Invalid batch payload format: dependsOn has a cycle through '{item['id']}'.")
        state[key] = 1
        for dep in item.get("dependsOn") or []:
            visit(by_id[dep.lower()])
        state[key] = 2
        order.append(item)

    for item in items:
        visit(item)
    return order
