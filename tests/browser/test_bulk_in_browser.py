"""The app in a real browser, started as the README says: upload a CSV, create, see every join link."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import clients_csv, unique_tag

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path):
    """`python -m streamlit run app.py` on a free port, with its own data folder."""
    port = free_port()
    home = tmp_path / "home"
    env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(home))
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/_stcore/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Tall enough that each screenshot shows a whole page (Streamlit scrolls inside its own container).
        context = browser.new_context(viewport={"width": 1400, "height": 2000}, accept_downloads=True,
                                      timezone_id="America/New_York")
        yield context.new_page()
        context.close()
        browser.close()


def select_first_appointment(page, app_url: str, count: int) -> None:
    """Open the Appointments page and tick its first row (the grid is a canvas: click where the box is)."""
    page.goto(app_url + "/appointments")
    page.get_by_text(f"{count} appointments", exact=False).wait_for(timeout=60_000)
    settle(page)
    box = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)


def settle(page) -> None:
    """Wait until Streamlit has finished the script run and every lazily loaded widget is drawn."""
    page.wait_for_timeout(500)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"], [data-testid=\"stSkeleton\"], "
        "[data-stale=\"true\"]')", timeout=60_000)
    page.wait_for_timeout(300)


def test_uploading_a_csv_creates_every_appointment_and_shows_its_join_links(app_url, page, tmp_path):
    tag = unique_tag("WEB")
    count = 8
    upload = tmp_path / "clients.csv"
    upload.write_bytes(clients_csv(count, tag))

    # A first visit straight to a page (a bookmark) still gets the app's navigation and layout.
    page.goto(app_url + "/bulk")
    page.get_by_text("1 · Upload").wait_for(timeout=60_000)
    settle(page)
    assert "Bulk from spreadsheet" in page.locator("[data-testid='stSidebarNav']").inner_text()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(upload))
    page.get_by_text(f"{count} ready", exact=False).wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "bulk-check.png"))

    page.get_by_role("button", name=f"Create {count} appointments").click()
    page.get_by_text(f"{count} created", exact=False).wait_for(timeout=120_000)
    settle(page)
    page.get_by_role("button", name="Download CSV").last.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "bulk-results.png"))

    # The results table is drawn on a canvas: read what it holds through its downloads (made for a mail merge).
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").last.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    assert list(rows[0])[:12] == ["Client", "Client email", "Client phone", "Date", "Start", "End", "Time zone",
                                  "Client join link", "Organizer join link", "Status", "Problem", "Row"]
    assert {r["Status"] for r in rows} == {"created"}
    assert all(r["Organizer join link"].startswith("https://") for r in rows)
    assert all(r["Client join link"].startswith("https://") for r in rows)
    assert sorted(r["Appointment id"] for r in rows) == [f"{tag}-{i:04d}" for i in range(count)]
    assert "requestId" not in rows[0]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Excel").last.click()
    check_results_workbook(download.value, tmp_path, count)

    select_first_appointment(page, app_url, count)
    page.get_by_role("button", name="Refresh join links").wait_for(timeout=30_000)
    page.get_by_role("button", name="Refresh join links").click()
    page.get_by_text("Join links refreshed.").wait_for(timeout=30_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "appointments.png"))

    page.goto(app_url)
    page.get_by_role("button", name="Design one appointment").wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "home.png"))

    page.goto(app_url + "/designer")
    page.get_by_text("Requests", exact=True).wait_for(timeout=60_000)
    settle(page)
    # The example client is never sent: load a real one from pasted JSON first.
    page.get_by_text("Load JSON or a saved template").click()
    page.get_by_label("JSON document").fill(json.dumps({
        "meeting": {"subject": "Lab results review", "startDateTime": "2026-12-07T15:00:00-05:00",
                    "endDateTime": "2026-12-07T15:30:00-05:00", "externalId": unique_tag("WEBDSN")},
        "virtualAppointment": {"appointmentClients": [{"displayName": "Maria Gonzalez",
                                                       "emailAddress": "maria@example.com"}]}}))
    page.get_by_role("button", name="Load pasted JSON").click()
    page.get_by_text("Loaded the pasted JSON", exact=False).wait_for(timeout=30_000)
    settle(page)
    page.get_by_role("button", name="Send to the sandbox").click()
    page.get_by_text("Appointment created", exact=False).wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "designer.png"))

    page.goto(app_url + "/connection")
    page.get_by_role("button", name="Test connection").click()
    page.get_by_text("Connected: Graph answered", exact=False).wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "connection.png"))


def check_results_workbook(download, tmp_path, count: int) -> None:
    """The Excel file: plain headings, one row per client, real hyperlinks, the ids on a sheet of their own."""
    from openpyxl import load_workbook

    download.save_as(tmp_path / "RESULTS.xlsx")
    book = load_workbook(tmp_path / "RESULTS.xlsx")
    assert book.sheetnames == ["Appointments", "Technical"]
    sheet = book["Appointments"]
    header = [c.value for c in sheet[1]]
    assert header[:12] == ["Client", "Client email", "Client phone", "Date", "Start", "End", "Time zone",
                           "Client join link", "Organizer join link", "Status", "Problem", "Row"]
    column = header.index("Client join link")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert len(cells) == count
    assert all(c.hyperlink is not None and c.hyperlink.target == c.value and c.value.startswith("https://")
               for c in cells)
    technical = [c.value for c in book["Technical"][1]]
    assert "requestId" in technical and "requestId" not in header


def app_sandbox_config(home: Path, **settings) -> None:
    """Slow down the app's own sandbox (started under the app's data folder on its first page)."""
    from lib.screens.embedded_sandbox import find_running

    box = find_running(home / "sandbox")
    assert box is not None, "the app's sandbox is not running"
    with requests.Session() as http:
        http.trust_env = False
        http.post(box.url + "/_sandbox/config", json=settings, verify=str(box.ca_path), timeout=10).raise_for_status()


def test_a_reload_mid_run_continues_and_an_edited_appointment_stays_selected(app_url, page, tmp_path):
    tag = unique_tag("RLD")
    count = 120
    upload = tmp_path / "clinic-export.csv"
    upload.write_bytes(clients_csv(count, tag))
    page.goto(app_url + "/bulk")
    page.get_by_text("1 · Upload").wait_for(timeout=60_000)
    settle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(upload))
    page.get_by_text(f"{count} ready", exact=False).wait_for(timeout=60_000)
    settle(page)
    app_sandbox_config(tmp_path / "home", latency=1500)
    try:
        page.get_by_role("button", name=f"Create {count} appointments").click()
        page.get_by_text(f"of {count} done", exact=False).wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "bulk-progress.png"))
        page.reload()  # mid-way: a new session; the run goes on in the server
        offer = page.get_by_role("button", name=f"Continue with clinic-export.csv ({count} rows)")
        offer.wait_for(timeout=60_000)
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "bulk-continue.png"))
        offer.click()
        page.get_by_text(f"{count} created", exact=False).wait_for(timeout=180_000)
    finally:
        app_sandbox_config(tmp_path / "home", latency=0)
    settle(page)
    assert page.get_by_text("Replace clinic-export.csv", exact=False).count() >= 1  # uploader and summary agree
    page.screenshot(path=str(ARTIFACTS / "bulk-after-reload.png"))
    page.get_by_role("button", name="Download Excel").last.scroll_into_view_if_needed()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Excel").last.click()
    check_results_workbook(download.value, tmp_path, count)

    # Move the first appointment to a later day: the list re-sorts; the selection and the message follow it.
    select_first_appointment(page, app_url, count)
    heading = page.locator("[data-testid='stHeading']").filter(has_text="Client 0")
    heading.first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Change subject or time").click()
    day = page.get_by_label("Date", exact=True)
    day.wait_for(timeout=30_000)
    # Streamlit's date field is a group of year, month and day segments: type into them in turn.
    day.locator("[role='spinbutton']").first.click()
    page.keyboard.type("20270320")
    page.keyboard.press("Tab")
    page.screenshot(path=str(ARTIFACTS / "appointments-edit-open.png"))
    page.get_by_role("button", name="Save", exact=True).click()  # not under the open date picker
    page.get_by_text("Meeting updated. For Client 0, 2027-03-20 09:00", exact=False).wait_for(timeout=60_000)
    settle(page)
    assert page.locator("[data-testid='stHeading']").filter(has_text="2027-03-20 09:00").filter(
        has_text="Client 0").count() == 1
    assert page.locator("[data-testid='stHeading']").filter(has_text="Client 1 ").count() == 0
    page.screenshot(path=str(ARTIFACTS / "appointments-after-edit.png"))

    page.goto(app_url + "/connection")
    page.get_by_text("Connect a Microsoft 365 tenant").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Fill in").click()
    page.get_by_text("App-only (client secret)").click()
    page.get_by_label("Client secret").wait_for(timeout=30_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "connection-form.png"))
