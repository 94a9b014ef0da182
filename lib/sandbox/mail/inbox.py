"""The sandbox inbox page: every sent message as its recipient would see it, for demos.

Everything from a message is escaped; an HTML body is shown inside a sandboxed frame (no scripts, no
requests), so a hostile name or subject in a spreadsheet cannot run here either.
"""
from __future__ import annotations

import base64
import binascii
import html

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ..inspection import loopback_only

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'"
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#222}"
          "article{border:1px solid #ccc;border-radius:.4rem;padding:.6rem 1rem;margin:1rem 0}"
          "h2{font-size:1.1rem;margin:.2rem 0}.meta{color:#555;font-size:.9rem}"
          "iframe{width:100%;height:16rem;border:1px solid #eee}pre{white-space:pre-wrap;background:#f6f6f6;"
          "padding:.5rem}")


def _e(value) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


def _attachment(a: dict) -> str:
    label = f"{_e(a.get('name'))} ({_e(a.get('contentType'))}, {_e(a.get('size'))} bytes)"
    if not str(a.get("contentType", "")).lower().startswith("text/"):
        return f"<li>{label}</li>"
    try:
        text = base64.b64decode(a.get("contentBytes") or "").decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        text = "(not valid base64)"
    return f"<li><details><summary>{label}</summary><pre>{_e(text)}</pre></details></li>"


def _message(m: dict) -> str:
    body = m.get("body") or {}
    content = body.get("content", "")
    if body.get("contentType") == "html":
        shown = f"<iframe sandbox title='Message body' srcdoc=\"{_e(content)}\"></iframe>"
    else:
        shown = f"<pre>{_e(content)}</pre>"
    to = ", ".join(f"{_e(r.get('name'))} &lt;{_e(r.get('address'))}&gt;" for r in m.get("recipients") or [])
    attachments = "".join(_attachment(a) for a in m.get("attachments") or [])
    return (f"<article><h2>{_e(m.get('subject')) or '(no subject)'}</h2>"
            f"<div class='meta'>From {_e(m.get('fromName'))} &lt;{_e(m.get('from'))}&gt; to {to}"
            f" · {_e(m.get('sentDateTime'))}</div>{shown}"
            + (f"<ul>{attachments}</ul>" if attachments else "") + "</article>")


@loopback_only
async def inbox(request: Request, sandbox) -> HTMLResponse:
    """`/_sandbox/inbox[?to=ADDRESS]`: sent mail, newest first."""
    wanted = request.query_params.get("to", "").strip().lower()
    sent = [m for m in reversed(sandbox.mail.inspect_sent())
            if not wanted or wanted in [a.lower() for a in m.get("toRecipients") or []]]
    items = "".join(_message(m) for m in sent) or "<p>No mail has been sent yet.</p>"
    title = f"Sandbox inbox{' for ' + wanted if wanted else ''}"
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{_e(title)}</h1>"
            f"<p class='meta'>{len(sent)} message(s). Nothing here left this machine.</p>{items}</body></html>")
    return HTMLResponse(page, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})


routes = [Route("/_sandbox/inbox", inbox, methods=["GET"])]
