"""`python -m lib send --flow bookings` as a user runs it, against a sandbox with faults."""

from __future__ import annotations

from datetime import timedelta

from tests.dates import monday_ahead
from tests.helpers import unique_tag, write_csv
from tests.test_cli import read_results, run_cli


def clinic_csv(n: int, tag: str) -> bytes:
    """Rows with a date and time inside the sandbox business's hours (New York, Mon-Fri 08:00-18:00)."""
    lines, monday = ["Name,Email,Date,Time"], monday_ahead()
    for i in range(n):
        day, slot = divmod(i, 16)  # 16 rows a day from Monday, up to five days
        lines.append(f"Client {i},{tag.lower()}-{i}@example.com,{monday + timedelta(days=day):%Y-%m-%d},"
                     f"{9 + slot // 2:02d}:{30 * (slot % 2):02d}")
    return ("\n".join(lines) + "\n").encode()


def test_send_bookings_app_only_under_faults_books_each_row_once(fresh_sandbox, tmp_path):
    tag = unique_tag("CBK")
    fresh_sandbox.configure(faults="503=0.05,lost=0.05", seed=3)
    path = write_csv(tmp_path / "clinic.csv", clinic_csv(30, tag))
    out = tmp_path / "RESULTS.csv"
    done = run_cli("send", path, "--connection", fresh_sandbox.app_profile_path, "--flow", "bookings",
                   "--tz", "America/New_York", "--out", out, home=tmp_path)
    if done.returncode != 0:  # a row may give up after its attempts: the same command finishes it
        done = run_cli("send", path, "--connection", fresh_sandbox.app_profile_path, "--flow", "bookings",
                       "--tz", "America/New_York", "--out", out, home=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = read_results(out)
    assert len(rows) == 30 and {r["status"] for r in rows} <= {"created", "existing"}
    assert all(r["bookingAppointmentId"] and r["joinWebUrl"] and r["clientJoinWebUrl"] for r in rows)
    assert all(r["onlineMeetingId"] == "" for r in rows)
    fresh_sandbox.configure(faults="")
    live = [a for a in fresh_sandbox.bookings()["value"][0]["appointments"] if not a.get("cancelled")]
    emails = [c["emailAddress"] for a in live for c in a["customers"] if c["emailAddress"].startswith(tag.lower())]
    assert sorted(emails) == sorted(f"{tag.lower()}-{i}@example.com" for i in range(30))  # none twice, none missing


def test_send_bookings_with_an_unknown_service_lists_the_services(sandbox, tmp_path):
    path = write_csv(tmp_path / "clinic.csv", clinic_csv(1, unique_tag("CBS")))
    done = run_cli("send", path, "--connection", sandbox.app_profile_path, "--flow", "bookings",
                   "--service", "Dentistry", home=tmp_path)
    assert done.returncode == 2
    assert "has no service 'Dentistry'" in done.stderr and "Initial consultation" in done.stderr
    assert "Traceback" not in done.stderr


def test_bookings_options_need_the_bookings_flow(sandbox, tmp_path):
    path = write_csv(tmp_path / "c.csv", clinic_csv(1, unique_tag("CBO")))
    done = run_cli("send", path, "--connection", sandbox.profile_path, "--flow", "join-link",
                   "--business", "x@example.com", home=tmp_path)
    assert done.returncode == 2 and "go with --flow bookings" in done.stderr


def test_send_bookings_signed_in_asks_for_the_bookings_permissions_and_books(sandbox, tmp_path):
    tag = unique_tag("CBD")
    path = write_csv(tmp_path / "clinic.csv", clinic_csv(2, tag))
    out = tmp_path / "RESULTS.csv"
    done = run_cli("send", path, "--connection", sandbox.profile_path, "--flow", "bookings",
                   "--tz", "America/New_York", "--out", out, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {r["status"] for r in read_results(out)} == {"created"}
