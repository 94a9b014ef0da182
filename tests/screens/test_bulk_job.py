"""The bulk page's logic (lib/screens/bulk_job.py): schedule settings, tallies, words, the kept job."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from lib.bulk.journal import Journal
from lib.bulk.runner import Outcome, Progress
from lib.model.appointment import Appointment, Client
from lib.screens.bulk_job import (JobStore, KeptJob, ScheduleChoice, Tally, collect, create_label, grouping_note,
                                  merge_retried, outcomes_from_journal, progress_line, source_key)
from lib.spreadsheet.check import check_sheet
from lib.spreadsheet.columns import auto_map
from lib.spreadsheet.read import read_table

START = datetime(2027, 3, 1, 9, tzinfo=timezone.utc)


def outcome(key: str, status: str, rows=(2,)) -> Outcome:
    appt = Appointment("Visit", START, START.replace(minute=30), clients=(Client(key, f"{key}@example.com", ""),),
                       external_appointment_id=key, source_rows=tuple(rows))
    return Outcome(key=key, appointment=appt, status=status, client_join_web_url="https://visit/" + key)


def test_the_schedule_settings_are_a_value_that_round_trips_through_json():
    choice = ScheduleChoice(date(2027, 3, 1), time(9, 0), 45, 15, "Europe/Paris", "Intake", (time(9), time(17)), True)
    assert ScheduleChoice.from_json(choice.to_json()) == choice and hash(choice) == hash(ScheduleChoice.from_json(choice.to_json()))
    schedule = choice.schedule()
    assert (schedule.duration, schedule.gap, schedule.tz, schedule.hours) == (45, 15, "Europe/Paris", (time(9), time(17)))


def test_retried_outcomes_replace_the_failed_ones_in_place():
    first = [outcome("a", "created"), outcome("b", "failed"), outcome("c", "failed")]
    merged = merge_retried(first, [outcome("c", "created")])
    assert [(o.key, o.status) for o in merged] == [("a", "created"), ("b", "failed"), ("c", "created")]


def test_the_tally_says_what_happened_in_words():
    outcomes = [outcome("a", "created"), outcome("b", "existing"), outcome("c", "failed")]
    tally = Tally.of(outcomes, [(9, "Email: no @")])
    assert (tally.created, tally.existing, tally.failed, tally.skipped, tally.linked) == (1, 1, 1, 1, 2)
    assert tally.summary() == ("1 created, 1 already there (confirmed by Microsoft Graph), 1 failed, "
                               "1 skipped (need attention).")
    assert not tally.all_good
    good = Tally.of(outcomes[:1], [])
    assert good.all_good and good.summary() == "1 created. Every appointment has its join link (1)."
    assert Tally.of(outcomes[:1], [], cancelled=True).summary().endswith("— the run was cancelled.")


def test_progress_counts_what_is_created_not_what_is_ready():
    p = Progress(total=5000, done=1573, created=1500, existing=60, updated=10, failed=3)
    line = progress_line(p, 5000)
    assert line.startswith("1,570 of 5,000 done: 1,500 created, 10 updated, 60 already there · 3 failed · ")
    assert "slow down" not in line


def test_a_standing_bar_says_graph_asked_us_to_wait():
    p = Progress(total=40, done=12, created=12, notice="Graph asked us to slow down: waiting 12 s")
    assert progress_line(p, 40) == "12 of 40 done: 12 created · Graph asked us to slow down: waiting 12 s"


def test_updated_rows_are_counted_and_named():
    outcomes = [outcome(f"k{i}", s) for i, s in enumerate(["created"] * 3 + ["updated"] + ["existing"] * 8)]
    tally = Tally.of(outcomes, [])
    assert tally.updated == 1 and tally.all_good
    assert tally.summary() == ("3 created, 1 updated, 8 already there (confirmed by Microsoft Graph). "
                               "Every appointment has its join link (12).")
    assert create_label(1) == "Create 1 appointment" and create_label(11) == "Create 11 appointments"


def test_rows_that_share_an_appointment_id_are_explained():
    sheet = read_table(b"Name,Email,Appointment ID,Date,Time\n"
                       b"Ann,ann@example.com,FAM-1,2027-03-01,09:00\nBen,ben@example.com,FAM-1,2027-03-01,09:00\n"
                       b"Cy,cy@example.com,,2027-03-01,10:00\n", "c.csv")
    from lib.spreadsheet.schedule import Schedule

    report = check_sheet(sheet, auto_map(sheet.headers), Schedule(tz="UTC"))
    assert report.ok == 3 and len(report.appointments) == 2
    assert grouping_note(report) == ("3 rows ready make 2 appointments: rows 2, 3 share the appointment id FAM-1, "
                                     "so they are one appointment with 2 clients.")


def test_a_kept_job_comes_back_whole_and_offers_itself_in_words(tmp_path):
    store = JobStore(tmp_path / "jobs" / "current")
    assert store.load() is None
    job = KeptJob(name="clinic-export.csv", data=b"Name\nAnn\n", sheet=None, mapping={"name": "Name"},
                  schedule=ScheduleChoice(date(2027, 3, 1), time(9, 0)), edits={3: {"Email": "a@b.co"}, 5: {"Name": "X"}},
                  run_ids=["r1", "r2"], rows=12)
    store.save(job)
    again = store.load()
    assert again == job
    assert again.offer() == "Continue with clinic-export.csv (12 rows, 2 fixes)"
    assert source_key(job.data, None) == source_key(b"Name\nAnn\n", "")
    store.clear()
    assert store.load() is None


def test_results_are_read_back_from_the_journal_with_their_retries(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    first, retry = journal.start_run(profile_key="p", profile_name="p", flow="f", source="x", total=2), None
    a, b = outcome("a", "created", (2,)), outcome("b", "failed", (3,))
    journal.upsert_pending(first, "p", "f", [("a", "me", a.appointment), ("b", "me", b.appointment)])
    journal.update("a", status="created", client_join_web_url="https://visit/a")
    journal.record_rows(first, [(2, "a", "created", None), (3, "b", "failed", "Not sent: cancelled"),
                                (4, None, "invalid", "Email: no @")])
    outcomes, invalid = outcomes_from_journal(journal, [first])
    assert [(o.key, o.status, o.error) for o in outcomes] == [("a", "created", ""), ("b", "failed", "Not sent: cancelled")]
    assert invalid == [(4, "Email: no @")] and outcomes[0].client_join_web_url == "https://visit/a"
    assert outcomes[1].appointment.source_rows == (3,)

    retry = journal.start_run(profile_key="p", profile_name="p", flow="f", source="x", total=1)
    journal.update("b", status="created")
    journal.record_rows(retry, [(3, "b", "created", None)])
    outcomes, invalid = outcomes_from_journal(journal, [first, retry])
    assert [(o.key, o.status) for o in outcomes] == [("a", "created"), ("b", "created")] and invalid == [(4, "Email: no @")]


def test_collecting_a_retry_keeps_the_first_runs_skipped_rows_and_both_run_ids():
    class Result:
        run_id, cancelled, outcomes = "r2", False, [outcome("b", "created")]

    previous = {"outcomes": [outcome("a", "created"), outcome("b", "failed")], "invalid": [(9, "bad")]}
    run_ids = ["r1"]
    store = collect(Result(), retry=True, previous=previous, source="s", invalid=[], run_ids=run_ids)
    assert [o.status for o in store["outcomes"]] == ["created", "created"] and store["invalid"] == [(9, "bad")]
    assert run_ids == ["r1", "r2"]
    collect(Result(), retry=False, previous=None, source="s", invalid=[], run_ids=run_ids)
    assert run_ids == ["r2"]


def test_rows_bookings_would_refuse_from_an_app_are_marked_and_skipped_before_sending(checked_on_new_year):
    from datetime import timedelta

    from lib.model.bookings import BookingRules, BookingsTarget
    from lib.screens.bulk_job import Checked, rule_refusals
    from lib.screens.check_grid import CheckSession
    from lib.spreadsheet.schedule import Schedule

    sheet = read_table(b"Name,Email,Date,Time,End\nAnn,ann@example.com,2027-03-01,09:00,09:30\n"
                       b"Ben,ben@example.com,2027-03-01,10:00,10:45\nCy,nope,2027-03-01,11:00,11:30\n", "r.csv")
    report, frame, _ = CheckSession.start(sheet, auto_map(sheet.headers),
                                          Schedule(start=datetime(2027, 3, 1, 9), tz="UTC")).check({})
    rules = BookingRules("Contoso Virtual Care", timedelta(minutes=30), timedelta(hours=1), None, True)
    target = BookingsTarget("care@contoso.example", "svc", "Initial consultation", 30, rules=rules)
    now = checked_on_new_year
    assert rule_refusals(report, target, app_only=False, now=now) == {}  # a signed-in person is not held to them
    refused = rule_refusals(report, target, app_only=True, now=now)
    assert list(refused) == [3] and "It lasts 45 minutes, but the service takes 30" in refused[3]
    checked = Checked(report, refused)
    assert (checked.ok, checked.error) == (1, 2)
    assert [a.source_rows for a in checked.appointments] == [(2,)]
    assert [row for row, _ in checked.invalid()] == [3, 4] and [row for row, _ in checked.problems()] == [3, 4]
    marked = checked.frame(frame)
    assert list(marked["_status"]) == ["✓ Ready", "✗ Fix", "✗ Fix"] and frame["_status"].iloc[1] == "✓ Ready"
