"""The journal keeps every appointment and run across restarts, and never holds secrets."""

from datetime import datetime
from zoneinfo import ZoneInfo

from lib.model.appointment import Appointment, Client
from lib.bulk.journal import Journal, appointment_key

UTC = ZoneInfo("UTC")


def appt(n: int, month: int = 12) -> Appointment:
    return Appointment(f"Visit {n}", datetime(2026, month, 1, 9, n % 60, tzinfo=UTC),
                       datetime(2026, month, 1, 10, n % 60, tzinfo=UTC),
                       clients=(Client(f"Client {n}", f"c{n}@example.com"),), source_rows=(n + 1,)).with_ids()


def test_appointments_and_runs_survive_reopening(tmp_path):
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    run = journal.start_run(profile_key="p", profile_name="Sandbox", flow="join-link", source="a.csv", total=1)
    key = appointment_key("p", "me", appt(1).meeting_external_id)
    journal.upsert_pending(run, "p", "join-link", [(key, "me", appt(1))])
    journal.update(key, status="created", meeting_id="M1", join_web_url="https://teams/x", client_join_web_url="https://visit/x")
    journal.finish_run(run, "finished", {"created": 1})
    journal.close()

    again = Journal(path)
    entry = again.get(key)
    assert entry.done and entry.meeting_id == "M1" and entry.rows == [2]
    assert entry.appointment().subject == "Visit 1"
    assert again.runs()[0]["summary"] == {"created": 1}
    assert [e.key for e in again.entries(status="created")] == [key]


def test_resending_keeps_known_outcomes(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    key = appointment_key("p", "me", appt(1).meeting_external_id)
    journal.upsert_pending("r1", "p", "join-link", [(key, "me", appt(1))])
    journal.update(key, status="created", meeting_id="M1")
    journal.upsert_pending("r2", "p", "join-link", [(key, "me", appt(1))])
    entry = journal.get(key)
    assert entry.status == "created" and entry.meeting_id == "M1" and entry.run_id == "r2"


def test_monthly_count_is_per_organizer_and_month(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    items = [(appointment_key("p", "me", appt(n).meeting_external_id), "me", appt(n)) for n in range(3)]
    items.append((appointment_key("p", "me", appt(9, month=11).meeting_external_id), "me", appt(9, month=11)))
    journal.upsert_pending("r", "p", "join-link", items)
    for key, _, _ in items:
        journal.update(key, status="created", meeting_id="M")
    assert journal.count_in_month("p", "me", "2026-12") == 3
    assert journal.count_in_month("p", "me", "2026-11") == 1
    assert journal.count_in_month("p", "someone-else", "2026-12") == 0


def test_unfinished_runs_are_marked_interrupted(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    journal.start_run(profile_key="p", profile_name="x", flow="join-link", source="", total=3)
    assert journal.mark_interrupted_runs() == 1
    assert journal.runs()[0]["state"] == "interrupted"
