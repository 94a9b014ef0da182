"""Loopback-only inspection and control endpoints (no token): stats, meetings, mail, events, runtime config."""
from __future__ import annotations

import ipaddress
import json
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .faults import SettingError

CONFIG_KEYS = ("latency", "rate_limit", "faults", "seed", "auto_approve", "device_code_seconds", "access_policy")


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard(handler):
    async def wrapped(request: Request):
        if not _loopback(request):
            return JSONResponse({"error": "The sandbox's inspection endpoints answer loopback clients only."},
                                status_code=403)
        return await handler(request, request.app.state.sandbox)
    return wrapped


loopback_only = _guard   # for other sandbox pages (the inbox)


def _config(sandbox) -> dict:
    return {**sandbox.policy.describe(), "auto_approve": sandbox.identity.auto_approve,
            "device_code_seconds": sandbox.identity.device_code_seconds}


@_guard
async def stats(request: Request, sandbox) -> JSONResponse:
    counters = sandbox.state.counters()
    s = sandbox.stats
    db = sandbox.state.db
    return JSONResponse({
        "onlineMeetings": counters.get("onlineMeetings", 0),
        "virtualAppointments": counters.get("virtualAppointments", 0),
        "smsSent": counters.get("smsSent", 0),
        "mailSent": counters.get("mailSent", 0),
        "events": counters.get("events", 0),
        "requests": s.requests,
        "throttled": s.throttled,
        "faultsInjected": s.faults_injected,
        "batchItems": s.batch_items,
        "faults": dict(s.by_fault),
        "storedMeetings": db.execute("SELECT COUNT(*) FROM meetings").fetchone()[0],
        "storedVirtualAppointments": sandbox.state.appointment_count(),
        "storedEvents": sandbox.mail.store.event_count(),
        "tokensIssued": db.execute("SELECT COUNT(*) FROM tokens").fetchone()[0],
        "bookingAppointments": counters.get("bookingAppointments", 0),
        "uptimeSeconds": round(time.time() - s.started_at, 3),
        "config": _config(sandbox),
    })


@_guard
async def meetings(request: Request, sandbox) -> JSONResponse:
    return JSONResponse({"value": sandbox.backend.inspect_meetings()})


@_guard
async def bookings(request: Request, sandbox) -> JSONResponse:
    return JSONResponse(sandbox.bookings.inspect())


@_guard
async def mail(request: Request, sandbox) -> JSONResponse:
    """Every message that left a sandbox mailbox (nothing is delivered anywhere else)."""
    return JSONResponse({"value": sandbox.mail.inspect_sent()})


@_guard
async def events(request: Request, sandbox) -> JSONResponse:
    return JSONResponse({"value": sandbox.mail.inspect_events()})


@_guard
async def config(request: Request, sandbox) -> JSONResponse:
    if request.method == "GET":
        return JSONResponse(_config(sandbox))
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return JSONResponse({"error": "The body must be a JSON object."}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": "The body must be a JSON object."}, status_code=400)
    unknown = sorted(set(body) - set(CONFIG_KEYS))
    if unknown:
        return JSONResponse({"error": f"Unknown setting(s): {', '.join(unknown)}; known: {', '.join(CONFIG_KEYS)}."},
                            status_code=400)
    try:
        sandbox.policy.configure(**{k: body[k] for k in ("latency", "rate_limit", "faults", "seed") if k in body})
    except SettingError as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    if "auto_approve" in body:
        sandbox.identity.auto_approve = bool(body["auto_approve"])
    if "device_code_seconds" in body:
        sandbox.identity.device_code_seconds = max(1, int(body["device_code_seconds"]))
    if "access_policy" in body:
        policy = body["access_policy"]
        if not isinstance(policy, dict):
            return JSONResponse({"error": "access_policy must map user object ids to true/false."}, status_code=400)
        with sandbox.state.write():
            for user_id, granted in policy.items():
                sandbox.state.set_access_policy(sandbox.directory.apps[0].client_id, user_id, bool(granted))
    return JSONResponse(_config(sandbox))


@_guard
async def reset_counters(request: Request, sandbox) -> JSONResponse:
    """Zero the since-start counters (requests, throttled, faultsInjected) and the rate-limit windows."""
    sandbox.stats.reset()
    sandbox.policy.windows.clear()
    return JSONResponse({"ok": True})


routes = [
    Route("/_sandbox/stats", stats, methods=["GET"]),
    Route("/_sandbox/meetings", meetings, methods=["GET"]),
    Route("/_sandbox/bookings", bookings, methods=["GET"]),
    Route("/_sandbox/mail", mail, methods=["GET"]),
    Route("/_sandbox/events", events, methods=["GET"]),
    Route("/_sandbox/config", config, methods=["GET", "POST"]),
    Route("/_sandbox/reset-counters", reset_counters, methods=["POST"]),
]
