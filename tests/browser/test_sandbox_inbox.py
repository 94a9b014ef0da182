"""The sandbox's inbox page in a real browser: a demo can show what the client received, and a hostile
name or subject from a spreadsheet is shown as text, never run."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
import requests

from tests.browser.test_bulk_in_browser import ARTIFACTS, CHROMIUM, app_url, page  # noqa: F401  (fixtures)
from tests.sandbox.conftest import Graph, app_token
from lib.sandbox.directory import USERS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
ICS = base64.b64encode(b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n").decode()


def through_python(page, sandbox) -> None:
    """Fetch the sandbox's pages with requests, verifying TLS against the sandbox's own CA."""
    session = requests.Session()
    session.trust_env = False

    def fetch(route):
        reply = session.get(route.request.url, verify=sandbox.ca_path, timeout=30)
        route.fulfill(status=reply.status_code, headers=dict(reply.headers), body=reply.content)

    page.route(sandbox.url + "/**", fetch)


def test_the_inbox_shows_the_message_and_runs_nothing_from_it(fresh_sandbox, page):  # noqa: F811
    marker = uuid.uuid4().hex[:8]
    address = f"maria-{marker}@example.com"
    message = {"subject": f"<script>alert('subject')</script> Your appointment {marker}",
               "body": {"contentType": "HTML",
                        "content": "<p>Hello <img src=x onerror=\"alert('body')\"> join "
                                   "<a href='https://visit.teams.microsoft.com/x'>here</a></p><script>alert(3)</script>"},
               "toRecipients": [{"emailAddress": {"address": address, "name": "<b onmouseover=alert(4)>Maria</b>"}}],
               "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "appointment.ics",
                                "contentType": "text/calendar", "contentBytes": ICS}]}
    graph = Graph(fresh_sandbox, app_token(fresh_sandbox))
    assert graph.post(f"users/{USERS[0].id}/sendMail", json={"message": message}).status_code == 202

    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    through_python(page, fresh_sandbox)
    page.goto(f"{fresh_sandbox.url}/_sandbox/inbox?to={address}")
    heading = page.locator("article h2").first
    heading.wait_for(timeout=30_000)
    assert heading.inner_text() == f"<script>alert('subject')</script> Your appointment {marker}"
    assert "<b onmouseover=alert(4)>Maria</b>" in page.locator("article .meta").first.inner_text()
    frame = page.frame_locator("article iframe").first
    assert "join here" in frame.locator("body").inner_text(timeout=30_000)
    page.get_by_text("appointment.ics", exact=False).click()
    assert "METHOD:REQUEST" in page.locator("article pre").first.inner_text()
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sandbox-inbox.png"))
    assert dialogs == []


def test_the_bulk_page_emails_each_client_and_the_inbox_shows_what_they_received(app_url, page, tmp_path):  # noqa: F811
    from lib.screens.embedded_sandbox import find_running
    from tests.browser.test_bulk_in_browser import settle
    from tests.helpers import clients_csv, unique_tag

    tag = unique_tag("WEBNTF")
    upload = tmp_path / "clients.csv"
    upload.write_bytes(clients_csv(3, tag))
    page.goto(app_url + "/bulk")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(upload))
    page.get_by_role("button", name="Create 3 appointments").click()
    page.get_by_role("button", name="Email 3 clients").wait_for(timeout=120_000)
    settle(page)
    # The exact email is shown in a frame with an empty sandbox: nothing in it may run.
    frame = page.locator("iframe[title='The email this client receives']")
    inner = frame.content_frame.locator("iframe[sandbox='']")
    assert "Hello Client 0" in inner.content_frame.locator("body").inner_text(timeout=30_000)
    page.get_by_role("button", name="Email 3 clients").click()
    page.get_by_text("3 sent", exact=False).wait_for(timeout=120_000)
    settle(page)
    page.get_by_text("6 · Tell the clients").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "bulk-tell-the-clients.png"), full_page=True)

    box = find_running(Path(tmp_path) / "home" / "sandbox")
    assert box is not None, "the app's sandbox is not running"
    through_python(page, box)
    page.goto(f"{box.url}/_sandbox/inbox?to=client0@example.com")
    heading = page.locator("article h2").first
    heading.wait_for(timeout=30_000)
    assert heading.inner_text().startswith("Your appointment: Virtual appointment on")
    frame = page.frame_locator("article iframe").first
    assert "Hello Client 0" in frame.locator("body").inner_text(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "sandbox-inbox-after-sending.png"))
