"""Local twin of Microsoft Graph (Teams online meetings, virtual appointments) and of the Microsoft
identity platform, served over HTTPS with a local CA (see shared/graph-reference.md for the rules).

Run it with `python -m lib sandbox ...` (or `python -m lib.sandbox ...`), or from Python with
`start_sandbox_process(data_dir)`.

Layout:
    cli.py, server.py, process.py   command line, assembly + uvicorn, child-process handle
    certs.py, directory.py          local CA and server cert; the fixed tenant, users and apps
    state.py                        SQLite (WAL): meetings, appointments, SMS, tokens, counters
    identity/                       discovery, token, device code, approval page (urls/responses/models/tokens)
    graph/                          urls.py (the whole surface), responses.py, models.py, exceptions.py,
                                    odata.py, dispatch.py, batch.py, asgi.py
    mail/                           §15 mail and calendar: urls, responses, models (messages, events rules),
                                    store (SQL), inbox page
    bookings/                       Microsoft Bookings (§14): urls.py, responses.py, models.py, rules.py, store.py,
                                    concurrency.py (which mailbox a path books in)
    mailbox_gate.py                 4 requests in flight per app + mailbox (Outlook and Bookings)
    faults.py                       latency, rate limit, injected faults (pure ASGI middleware)
    inspection.py                   /_sandbox/stats, /meetings, /mail, /events, /bookings, /config
"""
from .process import SandboxProcess, SandboxStartError, start_sandbox_process

__all__ = ["SandboxProcess", "SandboxStartError", "start_sandbox_process"]
