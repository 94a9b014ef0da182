"""The app in a real browser, started as the README says: upload a CSV, create, see every join link."""

from __future__ import annotations

import csv
import io
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
    page.get_by_text("Download CSV").last.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "bulk-results.png"))

    # The results table is drawn on a canvas: read what it holds through its CSV download.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").last.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    assert {r["status"] for r in rows} == {"created"}
    assert all(r["joinWebUrl"].startswith("https://") for r in rows)
    assert all(r["clientJoinWebUrl"].startswith("https://") for r in rows)
    assert sorted(r["externalAppointmentId"] for r in rows) == [f"{tag}-{i:04d}" for i in range(count)]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Excel").last.click()
    from openpyxl import load_workbook
    download.value.save_as(tmp_path / "RESULTS.xlsx")
    sheet = load_workbook(tmp_path / "RESULTS.xlsx").active
    header = [c.value for c in sheet[1]]
    links = [row[header.index("clientJoinWebUrl")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(links) == count and all(str(link).startswith("https://") for link in links)

    page.goto(app_url + "/appointments")
    page.get_by_text(f"{count} appointments", exact=False).wait_for(timeout=60_000)
    settle(page)
    # Select the first appointment by its row checkbox (the grid is a canvas: click where the box is).
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
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
    page.get_by_role("button", name="Send to the sandbox").click()
    page.get_by_text("Appointment created", exact=False).wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "designer.png"))

    page.goto(app_url + "/connection")
    page.get_by_role("button", name="Test connection").click()
    page.get_by_text("Connected: Graph answered", exact=False).wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "connection.png"))
