"""Bulk: upload → match columns → problems shown → fixed in the grid → create → results with links."""

from __future__ import annotations

import csv
import io

from tests.app.driver import assert_clean, button, open_app, texts, wait_until
from tests.helpers import clients_csv, unique_tag


def odd_headers_csv(tag: str) -> bytes:
    """Three clients under a header nobody would guess is the email; row 3's email lacks its @."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Who", "Reach at", "Date", "Time", "Booking ID"])
    writer.writerow(["Ana Ruiz", "ana.ruiz@example.com", "2027-06-07", "09:00", f"{tag}-1"])
    writer.writerow(["Ben Ode", "ben.example.com", "2027-06-07", "09:30", f"{tag}-2"])
    writer.writerow(["Cy Park", "cy.park@example.com", "2027-06-07", "10:00", f"{tag}-3"])
    return out.getvalue().encode()


def upload(at, name: str, data: bytes):
    at.file_uploader(key="upload_bulk").set_value((name, data, "text/csv")).run()
    assert_clean(at)
    return at


def results_frame(at):
    frames = [d.value for d in at.dataframe if "clientJoinWebUrl" in getattr(d.value, "columns", [])]
    assert frames, "no results table"
    return frames[-1]


def test_upload_match_fix_and_create_ends_with_every_join_link():
    tag = unique_tag("BLK")
    at = upload(open_app("pages/bulk.py"), "odd.csv", odd_headers_csv(tag))
    said = texts(at)
    assert "odd.csv" in said and "3 rows" in said
    # Step 2 asks in plain words for the column it could not match, and stops there.
    assert "Which column holds the client's email" in said
    assert not any(b.label.startswith("Create ") for b in at.button)

    shape = [k for k in at.session_state["bulk_mappings"]][0]
    at.selectbox(key=f"bulk_map_{shape}_email").set_value("Reach at").run()
    assert_clean(at)
    said = texts(at)
    assert "**2 ready**, **1 needs attention**" in said
    frame = at.data_editor[0].value
    bad = frame[frame["_row"] == 3].iloc[0]
    assert bad["_status"].startswith("✗") and "ben.example.com" in bad["_problem"]

    # Fix the cell in the grid, as a person typing in it would.
    shown = at.session_state["bulk_shown"]
    column = next(cid for cid, header in shown["columns"].items() if header == "Reach at")
    at.session_state[shown["key"]] = {"edited_rows": {shown["rows"].index(3): {column: "ben.ode@example.com"}},
                                      "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)
    assert "**3 ready**, **0 need attention**" in texts(at)

    button(at, "Create 3 appointments").click().run()
    wait_until(at, lambda at: "created" in texts(at) and any("clientJoinWebUrl" in getattr(d.value, "columns", [])
                                                            for d in at.dataframe))
    assert_clean(at)
    results = results_frame(at)
    assert sorted(results["row"]) == [2, 3, 4]
    assert set(results["status"]) == {"created"}
    assert all(u.startswith("https://visit.teams.microsoft.com/") for u in results["clientJoinWebUrl"])
    assert all(u.startswith("https://teams.microsoft.com/") for u in results["joinWebUrl"])
    assert "3 created" in texts(at)
    assert {b.label for b in at.get("download_button")} >= {"Download CSV", "Download Excel"}


def test_sending_the_same_file_again_creates_nothing_new():
    tag = unique_tag("AGN")
    data = clients_csv(4, tag)
    at = upload(open_app("pages/bulk.py"), "again.csv", data)
    button(at, "Create 4 appointments").click().run()
    wait_until(at, lambda at: "4 created" in texts(at))
    at = upload(open_app("pages/bulk.py"), "again.csv", data)
    button(at, "Create 4 appointments").click().run()
    wait_until(at, lambda at: "already there" in texts(at))
    assert "0 created, 4 already there (confirmed by Microsoft Graph)" in texts(at)


def test_rows_with_problems_are_skipped_and_listed_in_the_results():
    tag = unique_tag("SKP")
    at = upload(open_app("pages/bulk.py"), "mixed.csv", clients_csv(3, tag, bad_rows={1: {"Email": "nope"}}))
    assert "**2 ready**, **1 needs attention**" in texts(at)
    button(at, "Create 2 appointments").click().run()
    wait_until(at, lambda at: "2 created" in texts(at))
    results = results_frame(at)
    skipped = results[results["row"] == 3].iloc[0]
    assert skipped["status"] == "invalid" and "nope" in skipped["error"]


def test_a_file_that_cannot_be_read_is_explained_without_a_traceback():
    at = upload(open_app("pages/bulk.py"), "garbage.csv", bytes(range(256)) * 40)
    assert_clean(at)
    assert at.error and "garbage.csv cannot be used" in at.error[0].value


def test_the_request_preview_shows_the_exact_requests_for_a_row():
    tag = unique_tag("PRV")
    at = upload(open_app("pages/bulk.py"), "preview.csv", clients_csv(2, tag))
    at.number_input(key="bulk_preview_row").set_value(3).run()
    code = "\n".join(c.value for c in at.code)
    assert "/v1.0/me/onlineMeetings/createOrGet" in code and f'"externalId": "{tag}-0001"' in code


def test_the_schedule_fills_rows_without_times_and_draws_the_timeline():
    tag = unique_tag("SCH")
    at = upload(open_app("pages/bulk.py"), "no-times.csv", clients_csv(3, tag, with_times=False))
    at.number_input(key="bulk_duration").set_value(45).run()
    assert_clean(at)
    frame = at.data_editor[0].value
    assert frame["_time"].str.contains("09:00–09:45").iloc[0]
    assert frame["_time"].str.contains("09:45–10:30").iloc[1]
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def configure_app_sandbox(**settings):
    """Slow down or break the app's own sandbox (the one under the test's data folder)."""
    import requests

    from lib.screens.embedded_sandbox import ensure_sandbox

    box = ensure_sandbox()
    with requests.Session() as http:
        http.trust_env = False
        http.post(box.url + "/_sandbox/config", json=settings, verify=str(box.ca_path), timeout=10).raise_for_status()


def test_cancel_stops_the_run_and_retry_failed_finishes_only_what_is_missing():
    tag = unique_tag("CNL")
    at = upload(open_app("pages/bulk.py"), "cancel.csv", clients_csv(40, tag))
    configure_app_sandbox(latency=3000)  # slower than one rerun of the page, even on a busy machine
    try:
        button(at, "Create 40 appointments").click().run()
        button(at, "Cancel").click().run()
        wait_until(at, lambda at: "the run was cancelled" in texts(at))
    finally:
        configure_app_sandbox(latency=0)
    results = results_frame(at)
    failed = results[results["status"] == "failed"]
    assert len(failed) > 0 and failed["error"].str.contains("cancelled").all()

    button(at, f"Retry failed ({len(failed)})").click().run()
    wait_until(at, lambda at: "Every appointment has its join link" in texts(at))
    results = results_frame(at)
    assert len(results) == 40 and set(results["status"]) <= {"created", "existing"}
    assert all(u.startswith("https://") for u in results["clientJoinWebUrl"])


def test_ten_thousand_rows_stay_responsive_and_the_grid_is_paged(monkeypatch):
    from lib.spreadsheet.check import SheetChecker

    tag = unique_tag("BIG")
    at = upload(open_app("pages/bulk.py"), "big.csv", clients_csv(10_000, tag, with_times=False))
    assert "10,000 rows" in texts(at)
    assert len(at.data_editor[0].value) == 1000  # one page of the grid, never 10,000 rows of widgets
    at.number_input(key="bulk_page").set_value(10).run()
    assert at.data_editor[0].value["_row"].iloc[-1] == 10_001
    checks, check = [], SheetChecker.check
    monkeypatch.setattr(SheetChecker, "check", lambda self, *a, **k: checks.append(1) or check(self, *a, **k))
    at.number_input(key="bulk_preview_row").set_value(5000).run()
    assert checks == []  # another row to preview checks nothing again: the check is kept
    assert f'"externalId": "{tag}-4998"' in "\n".join(c.value for c in at.code)


def test_a_reload_offers_the_kept_job_with_its_fixes_and_shows_the_last_results():
    tag = unique_tag("KPT")
    at = upload(open_app("pages/bulk.py"), "clinic-export.csv", clients_csv(3, tag, bad_rows={1: {"Email": "nope"}}))
    at.number_input(key="bulk_duration").set_value(45).run()
    shown = at.session_state["bulk_shown"]
    column = next(cid for cid, header in shown["columns"].items() if header == "Email")
    at.session_state[shown["key"]] = {"edited_rows": {shown["rows"].index(3): {column: "client1@example.com"}},
                                      "added_rows": [], "deleted_rows": []}
    at.run()
    assert "**3 ready**" in texts(at)
    button(at, "Create 3 appointments").click().run()
    wait_until(at, lambda at: "3 created" in texts(at))

    again = open_app("pages/bulk.py")  # a browser reload: a new session, nothing in it
    offer = button(again, "Continue with clinic-export.csv")
    assert offer.label == "Continue with clinic-export.csv (3 rows, 1 fix)"
    offer.click().run()
    assert_clean(again)
    said = texts(again)
    assert "clinic-export.csv" in said and "**3 ready**" in said and "3 created" in said
    assert again.number_input(key="bulk_duration").value == 45
    results = results_frame(again)
    assert sorted(results["row"]) == [2, 3, 4] and set(results["status"]) == {"created"}
    assert "Replace clinic-export.csv" in again.get("file_uploader")[0].label
