"""Bulk page, Create step: the progress bar says why it stands still; the summary counts what Graph confirmed."""

from __future__ import annotations

from tests.app.driver import assert_clean, button, open_app, texts, wait_until
from tests.app.test_bulk import configure_app_sandbox, results_frame, upload
from tests.app.test_bulk_checks import edit_cell
from tests.helpers import clients_csv, unique_tag


def progress_texts(at) -> list[str]:
    return [str(getattr(p.proto, "text", "")) for p in at.get("progress")]


def test_a_throttled_run_says_graph_asked_us_to_wait_and_still_creates_every_row():
    tag = unique_tag("THR")
    at = upload(open_app("pages/bulk.py"), "throttled.csv", clients_csv(30, tag))
    configure_app_sandbox(rate_limit=2)  # far under what the runner sends: Graph answers 429 with Retry-After
    seen: list[str] = []
    try:
        button(at, "Create 30 appointments").click().run()

        def waiting_or_done(at) -> bool:
            seen.extend(progress_texts(at))
            return any("slow down" in t for t in seen) or "created" in texts(at) and not at.get("progress")

        wait_until(at, waiting_or_done, timeout=120)
    finally:
        configure_app_sandbox(rate_limit=None)
    notices = [t for t in seen if "slow down" in t]
    assert notices, f"the bar never said why it waited: {seen}"
    assert notices[0].startswith("Graph asked us to slow down: waiting ") or " · Graph asked us to slow down: waiting " in notices[0]
    wait_until(at, lambda at: "Every appointment has its join link" in texts(at), timeout=180)
    assert_clean(at)
    assert "30 created" in texts(at) and set(results_frame(at)["status"]) == {"created"}


def test_a_moved_row_sent_again_is_counted_updated_and_the_rest_confirmed_by_graph():
    tag = unique_tag("UPD")
    at = upload(open_app("pages/bulk.py"), "moved.csv", clients_csv(3, tag))
    button(at, "Create 3 appointments").click().run()
    wait_until(at, lambda at: "3 created" in texts(at))
    edit_cell(at, 3, "Time", "15:00")  # row 3 moves to the afternoon
    button(at, "Create 3 appointments").click().run()
    wait_until(at, lambda at: "1 updated" in texts(at))
    said = texts(at)
    assert "0 created, 1 updated, 2 already there (confirmed by Microsoft Graph)" in said
    assert "not sent again" not in said
    results = results_frame(at)
    assert dict(zip(results["row"], results["status"])) == {2: "existing", 3: "updated", 4: "existing"}
