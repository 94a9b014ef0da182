"""The journal keeps every appointment and run across restarts, and never holds secrets."""

import multiprocessing
import os
import sqlite3
import stat
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lib.model.appointment import Appointment, Client
from lib.bulk.journal import SCHEMA, Journal, appointment_key

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


def test_one_record_of_many_updates_applies_them_in_order(tmp_path):
    # Updates of one shape go in as one statement; the order across shapes still decides.
    journal = Journal(tmp_path / "j.sqlite3")
    keys = [appointment_key("p", "me", appt(n).meeting_external_id) for n in range(3)]
    journal.upsert_pending("r1", "p", "join-link", [(k, "me", appt(n)) for n, k in enumerate(keys)])
    journal.record(updates=[(keys[0], {"status": "created", "meeting_id": "M0"}),
                            (keys[1], {"status": "created", "meeting_id": "M1"}),
                            (keys[0], {"status": "failed", "error": "lost"}),
                            (keys[0], {"status": "existing", "meeting_id": "M0b"}),
                            (keys[2], {"status": "created", "meeting_id": "M2"})],
                   requests=[dict(run_id="r1", key=k, step="meeting", method="POST", path="/me", status=201,
                                  request_id=f"q{n}") for n, k in enumerate(keys)])
    first, second, third = (journal.get(k) for k in keys)
    assert (first.status, first.meeting_id, first.error) == ("existing", "M0b", "lost")
    assert (second.status, second.meeting_id, third.meeting_id) == ("created", "M1", "M2")
    assert [r["request_id"] for k in keys for r in journal.requests_for(k)] == ["q0", "q1", "q2"]
    with pytest.raises(ValueError, match="not journal fields"):
        journal.record(updates=[(keys[0], {"password": "x"})])


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
    assert journal.count_in_month("p", "me", "2026-12", at_most=2) == 2  # a quota check stops counting there
    assert journal.count_in_month("p", "me", "2026-12", at_most=10) == 3


def test_unfinished_runs_are_marked_interrupted(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    journal.start_run(profile_key="p", profile_name="x", flow="join-link", source="", total=3)
    assert journal.mark_interrupted_runs() == 1
    assert journal.runs()[0]["state"] == "interrupted"


def test_a_corrupt_journal_is_set_aside_and_a_fresh_one_started(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"\x00garbage" * 512)
    journal = Journal(path)
    assert journal.notice and "could not be read" in journal.notice and "fresh journal" in journal.notice
    kept, = tmp_path.glob("journal.sqlite3.corrupt-*")
    assert kept.read_bytes() == b"\x00garbage" * 512
    assert kept.name in journal.notice
    journal.start_run(profile_key="p", profile_name="x", flow="join-link", source="", total=0)
    assert len(journal.runs()) == 1


def test_a_journal_from_a_newer_version_is_kept_and_not_touched(tmp_path):
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    journal = Journal(path)
    assert journal.notice and "newer version" in journal.notice
    kept, = tmp_path.glob("journal.sqlite3.v99-*")
    assert sqlite3.connect(kept).execute("PRAGMA user_version").fetchone()[0] == 99
    assert journal.runs() == []


def test_a_journal_of_the_first_layout_is_upgraded_in_place(tmp_path):
    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA.replace(",\n    sms_sent_for TEXT", "").split("CREATE TABLE IF NOT EXISTS history")[0])
    db.close()
    journal = Journal(path)
    assert journal.notice is None
    key = appointment_key("p", "me", appt(1).meeting_external_id)
    journal.upsert_pending("r", "p", "join-link", [(key, "me", appt(1))])
    journal.record(updates=[(key, {"sms_sent_for": "M1"})],
                   history=[dict(key=key, meeting_id="M0", reason="test")])
    assert journal.get(key).sms_sent_for == "M1" and journal.history(key)[0]["meeting_id"] == "M0"


def test_a_run_id_already_taken_is_drawn_again(tmp_path, monkeypatch):
    # Another window or command started a run in the same second and drew the same id.
    ids = iter(["20261202-204034-aaaaaaaaaaaa", "20261202-204034-aaaaaaaaaaaa", "20261202-204034-bbbbbbbbbbbb"])
    monkeypatch.setattr("lib.bulk.journal.new_run_id", lambda: next(ids))
    journal = Journal(tmp_path / "journal.sqlite3")
    first = journal.start_run(profile_key="p", profile_name="x", flow="join-link", source="", total=1)
    second = journal.start_run(profile_key="p", profile_name="x", flow="join-link", source="", total=1)
    assert (first, second) == ("20261202-204034-aaaaaaaaaaaa", "20261202-204034-bbbbbbbbbbbb")
    assert len(journal.runs()) == 2


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_journal_is_readable_by_its_owner_only(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.start_run(profile_key="p", profile_name="x", flow="join-link", source="", total=0)
    for name in ("journal.sqlite3", "journal.sqlite3-wal"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def _write_many(path: str, worker: int, count: int, start) -> None:
    journal = Journal(path)
    start.wait(60)  # both processes write at the same moment
    for n in range(count):
        a = appt(n)
        key = appointment_key("p", f"w{worker}", a.meeting_external_id)
        run = journal.start_run(profile_key="p", profile_name="x", flow="join-link", source="", total=1)
        journal.upsert_pending(run, "p", "join-link", [(key, f"w{worker}", a)])
        journal.record(updates=[(key, {"status": "created", "meeting_id": f"M{worker}-{n}"})],
                       requests=[dict(run_id=run, key=key, step="meeting", method="POST", path="/x", status=201)])
        journal.finish_run(run, "finished", {"created": 1})
    journal.close()


def test_two_processes_writing_one_journal_lose_nothing(tmp_path):
    path = str(tmp_path / "journal.sqlite3")
    Journal(path).close()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [context.Process(target=_write_many, args=(path, w, 200, start)) for w in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    journal = Journal(path)
    assert len(journal.entries(status="created")) == 400
    assert len(journal.runs()) == 400 and {r["state"] for r in journal.runs()} == {"finished"}
