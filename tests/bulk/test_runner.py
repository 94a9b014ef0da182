"""Bulk sending: throttling, lost replies, cancel and quota, against a real sandbox."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from lib.model.appointment import Appointment, Client
from lib.model.flows import SmsOptions
from lib.graph.signin import token_provider_for
from lib.graph.client import GraphClient
from lib.graph.pacing import START_IN_FLIGHT, Throttle
from lib.bulk.journal import Journal
from lib.graph.profile import Profile
from lib.bulk.runner import MONTHLY_MEETING_QUOTA, Runner, quota_warnings
from tests.helpers import appointments, meetings_with_prefix, unique_tag


def make_runner(sandbox, tmp_path, *, flow="virtual-appointment", app_only=False, **options):
    profile = Profile.load(sandbox.app_profile_path if app_only else sandbox.profile_path)
    client = GraphClient(profile, token_provider_for(profile), throttle=Throttle(), max_attempts=8)
    journal = Journal(tmp_path / "journal.sqlite3")
    return Runner(client, journal, flow=flow, **options), journal


@pytest.mark.parametrize("flow", ["virtual-appointment", "join-link"])
def test_every_appointment_is_created_with_its_links(sandbox, tmp_path, flow):
    tag = unique_tag("RUN")
    runner, journal = make_runner(sandbox, tmp_path, flow=flow, concurrency=4)
    result = runner.run(appointments(45, tag))
    assert result.all_done and not result.cancelled
    assert all(o.client_join_web_url.startswith("https://visit.teams.microsoft.com/") for o in result.outcomes)
    assert len(meetings_with_prefix(sandbox, tag)) == 45
    assert len(journal.entries(run_id=result.run_id, status="created")) == 45


def test_a_second_run_confirms_every_appointment_with_graph_in_one_batch_per_step(sandbox, tmp_path):
    tag = unique_tag("JRN")
    runner, journal = make_runner(sandbox, tmp_path)
    first = runner.run(appointments(5, tag))
    before = sandbox.stats()["requests"]
    again = runner.run(appointments(5, tag))
    assert {o.status for o in again.outcomes} == {"existing"}
    assert [o.meeting_id for o in again.outcomes] == [o.meeting_id for o in first.outcomes]
    assert sandbox.stats()["requests"] - before == 2  # one createOrGet batch, one virtualAppointment batch
    assert meetings_with_prefix(sandbox, tag) == {f"{tag}-{i:04d}": 1 for i in range(5)}
    assert all(journal.history(o.key) == [] for o in again.outcomes)


@pytest.mark.parametrize("flow", ["virtual-appointment", "join-link"])
def test_a_fresh_sandbox_behind_an_old_journal_gets_every_row_really_created(sandbox, fresh_sandbox, tmp_path, flow):
    tag = unique_tag("OLD")
    old, journal = make_runner(sandbox, tmp_path, flow=flow)
    first = old.run(appointments(25, tag))
    assert first.all_done
    journal.close()

    runner, journal = make_runner(fresh_sandbox, tmp_path, flow=flow)  # same journal file, empty server
    result = runner.run(appointments(25, tag))
    assert {o.status for o in result.outcomes} == {"created"}
    held = {m["id"] for m in _meetings(fresh_sandbox)}
    assert {o.meeting_id for o in result.outcomes} <= held and len(held) == 25
    assert all(o.client_join_web_url for o in result.outcomes)
    old_ids = {o.key: o.meeting_id for o in first.outcomes}
    for outcome in result.outcomes:
        assert outcome.previous_meeting_id == old_ids[outcome.key]
        assert [h["meeting_id"] for h in journal.history(outcome.key)] == [old_ids[outcome.key]]
        assert journal.get(outcome.key).meeting_id == outcome.meeting_id


def test_meetings_deleted_on_the_server_between_runs_are_created_again(sandbox, tmp_path):
    tag = unique_tag("DEL")
    runner, journal = make_runner(sandbox, tmp_path)
    first = runner.run(appointments(3, tag))
    gone = first.outcomes[:2]
    for outcome in gone:  # as if deleted in Teams
        runner.client.request("DELETE", "v1.0", f"/me/onlineMeetings/{quote(outcome.meeting_id, safe='')}")
    result = runner.run(appointments(3, tag))
    assert [o.status for o in result.outcomes] == ["created", "created", "existing"]
    for before, after in zip(gone, result.outcomes):
        assert after.meeting_id != before.meeting_id
        assert journal.history(after.key)[0]["meeting_id"] == before.meeting_id
    held = {m["id"] for m in _meetings(sandbox)}
    assert {o.meeting_id for o in result.outcomes} <= held
    assert meetings_with_prefix(sandbox, tag) == {f"{tag}-{i:04d}": 1 for i in range(3)}


def test_a_text_message_already_sent_is_not_sent_again(sandbox, tmp_path):
    tag = unique_tag("SMS")
    runner, _ = make_runner(sandbox, tmp_path, flow="join-link", sms=SmsOptions())
    assert runner.run(appointments(3, tag)).all_done
    sent = sandbox.stats()["smsSent"]
    again = runner.run(appointments(3, tag))
    assert {o.status for o in again.outcomes} == {"existing"}
    assert sandbox.stats()["smsSent"] == sent


def test_throttling_pauses_all_workers_and_every_row_still_ends_created(fresh_sandbox, tmp_path):
    tag = unique_tag("THR")
    fresh_sandbox.configure(faults="429=0.2", seed=3)
    runner, _ = make_runner(fresh_sandbox, tmp_path, concurrency=4)
    result = runner.run(appointments(60, tag))
    assert result.all_done
    assert runner.client.throttle.throttled > 0
    assert fresh_sandbox.stats()["faultsInjected"] > 0
    assert len(meetings_with_prefix(fresh_sandbox, tag)) == 60


def test_lost_replies_and_dropped_connections_never_make_a_duplicate(fresh_sandbox, tmp_path):
    tag = unique_tag("LST")
    fresh_sandbox.configure(faults="lost=0.15,reset=0.1,503=0.1,504=0.05", seed=11)
    runner, _ = make_runner(fresh_sandbox, tmp_path, concurrency=4)
    result = runner.run(appointments(60, tag))
    fresh_sandbox.configure(faults="")
    counts = meetings_with_prefix(fresh_sandbox, tag)
    assert max(counts.values()) == 1
    failed = [o for o in result.outcomes if o.status == "failed"]
    # Whatever the faults did, re-running completes the rest and still makes no duplicate.
    if failed:
        runner.run(appointments(60, tag))
    assert meetings_with_prefix(fresh_sandbox, tag) == {f"{tag}-{i:04d}": 1 for i in range(60)}


def test_permanent_errors_fail_the_row_at_once_with_an_explanation(sandbox, tmp_path):
    tag = unique_tag("ERR")
    good, = appointments(1, tag)
    bad = Appointment("Bad", good.start, good.end, clients=(Client("X", "not-an-email"),),
                      external_appointment_id=f"{tag}-bad", source_rows=(9,))
    runner, _ = make_runner(sandbox, tmp_path)
    result = runner.run([good, bad])
    by_id = {o.appointment.external_appointment_id: o for o in result.outcomes}
    assert by_id[f"{tag}-0000"].status == "created"
    assert by_id[f"{tag}-bad"].status == "failed" and by_id[f"{tag}-bad"].error


def test_cancel_stops_cleanly_and_a_rerun_finishes_the_rest(fresh_sandbox, tmp_path):
    tag = unique_tag("CNL")
    fresh_sandbox.configure(latency=100)
    cancel = threading.Event()
    seen = []

    def on_progress(progress):
        seen.append(progress.done)
        if progress.done >= 3:
            cancel.set()

    runner, journal = make_runner(fresh_sandbox, tmp_path, concurrency=1, use_batch=False, cancel=cancel,
                                  on_progress=on_progress)
    result = runner.run(appointments(30, tag))
    assert result.cancelled
    unsent = [o for o in result.outcomes if o.status == "failed"]
    assert unsent and all("cancelled" in o.error for o in unsent)
    assert journal.runs()[0]["state"] == "cancelled"

    fresh_sandbox.configure(latency=0)
    rerun, _ = make_runner(fresh_sandbox, tmp_path)
    assert rerun.run(appointments(30, tag)).all_done
    assert meetings_with_prefix(fresh_sandbox, tag) == {f"{tag}-{i:04d}": 1 for i in range(30)}


def test_quota_warning_names_the_month_and_the_limit(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    start = datetime(2027, 5, 3, 8, tzinfo=timezone.utc)
    planned = [("me", Appointment("x", start + timedelta(minutes=i), start + timedelta(minutes=i + 30),
                                  clients=(Client(email=f"c{i}@example.com"),)))
               for i in range(MONTHLY_MEETING_QUOTA + 1)]
    warnings = quota_warnings(journal, "profile", planned)
    assert len(warnings) == 1 and "2027-05" in warnings[0] and "2,000" in warnings[0]
    assert quota_warnings(journal, "profile", planned[:10]) == []


def test_runner_warns_before_sending_when_the_journal_is_near_the_quota(sandbox, tmp_path):
    runner, journal = make_runner(sandbox, tmp_path)
    appts = appointments(3, unique_tag("QTA"))
    month = appts[0].start.strftime("%Y-%m")
    fake = [(f"k{i}", "me", Appointment("old", appts[0].start, appts[0].end, clients=(Client(email=f"o{i}@x.com"),),
                                         external_appointment_id=f"old{i}"))
            for i in range(MONTHLY_MEETING_QUOTA - 1)]
    journal.upsert_pending("r0", runner.client.profile.key, "virtual-appointment", fake)
    for key, _, _ in fake:
        journal.update(key, status="created", meeting_id="M")
    warnings = runner.quota_warnings(appts)
    assert warnings and month in warnings[0] and "2,002 meetings (1,999 already, 3 in this run)" in warnings[0]


def test_the_rest_of_a_file_checked_while_the_first_appointments_go_out_is_sent_too(sandbox, tmp_path):
    tag = unique_tag("AHD")
    appts = appointments(65, tag)
    runner, journal = make_runner(sandbox, tmp_path, flow="join-link", concurrency=4)
    checked = threading.Event()

    def rest():
        assert runner.progress.total == 20 + 50  # the first twenty and at most fifty more, until the rest is known
        time.sleep(0.3)  # the first batches are on the wire meanwhile
        checked.set()
        yield appts[:40], []
        yield appts, [(99, "Column \"Email\": \"x@\" is not an address.")]

    result = runner.run(appts[:20], source="clients.csv", rest=rest, rest_size=50)
    assert checked.is_set() and result.all_done and result.progress.total == 65
    assert [o.appointment.appointment_id for o in result.outcomes] == [a.appointment_id for a in appts]
    assert all(o.client_join_web_url for o in result.outcomes)
    assert meetings_with_prefix(sandbox, tag) == {f"{tag}-{i:04d}": 1 for i in range(65)}
    assert len(journal.entries(run_id=result.run_id, status="created")) == 65
    run = journal.runs()[0]
    assert run["total"] == 65 and run["summary"]["invalid"] == 1


def test_a_rest_that_brings_nothing_more_ends_the_run(sandbox, tmp_path):
    runner, journal = make_runner(sandbox, tmp_path, concurrency=8)
    result = runner.run([], rest=lambda: [([], [(2, "bad")])], rest_size=30)
    assert result.outcomes == [] and result.progress.total == 0 and result.all_done


def test_a_rest_that_fails_is_raised_once_the_first_appointments_are_settled(sandbox, tmp_path):
    tag = unique_tag("AHF")
    runner, journal = make_runner(sandbox, tmp_path, concurrency=2)

    def rest():
        yield appointments(10, tag), []
        raise RuntimeError("the check broke")

    with pytest.raises(RuntimeError, match="the check broke"):
        runner.run([], rest=rest, rest_size=10)
    assert len(journal.entries(status="created")) + len(journal.entries(status="pending")) == 10


def test_quota_warnings_come_once_every_appointment_is_known(sandbox, tmp_path):
    warned = []
    runner, journal = make_runner(sandbox, tmp_path, on_warning=warned.append)
    appts = appointments(3, unique_tag("QTR"))
    fake = [(f"k{i}", "me", Appointment("old", appts[0].start, appts[0].end, clients=(Client(email=f"o{i}@x.com"),),
                                         external_appointment_id=f"old{i}"))
            for i in range(MONTHLY_MEETING_QUOTA - 1)]
    journal.upsert_pending("r0", runner.client.profile.key, "virtual-appointment", fake)
    journal.record(updates=[(key, {"status": "created", "meeting_id": "M"}) for key, _, _ in fake])
    runner.run(appts[:1], rest=lambda: [(appts[:2], []), (appts, [])], rest_size=2)
    assert len(warned) == 1 and "2,002 meetings (1,999 already, 3 in this run)" in warned[0]


def test_a_month_already_past_the_quota_is_named_without_counting_every_meeting(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    start = datetime(2027, 5, 3, 8, tzinfo=timezone.utc)
    made = [(f"k{i}", "me", Appointment("old", start, start + timedelta(minutes=30),
                                        clients=(Client(email=f"o{i}@x.com"),), external_appointment_id=f"old{i}"))
            for i in range(MONTHLY_MEETING_QUOTA + 5)]
    journal.upsert_pending("r0", "profile", "join-link", made)
    journal.record(updates=[(key, {"status": "created", "meeting_id": "M"}) for key, _, _ in made])
    warnings = quota_warnings(journal, "profile", [("me", made[0][2])])
    assert len(warnings) == 1 and "more than 2,000 meetings (more than 2,000 already, 1 in this run)" in warnings[0]


@pytest.mark.parametrize("flow", ["virtual-appointment", "join-link"])
def test_an_edited_subject_or_time_updates_the_existing_meeting_instead_of_making_another(sandbox, tmp_path, flow):
    tag = unique_tag("EDT")
    runner, _ = make_runner(sandbox, tmp_path, flow=flow)
    original = appointments(2, tag)
    runner.run(original)
    moved = [replace(original[0], subject="Moved visit", start=original[0].start + timedelta(hours=2),
                     end=original[0].end + timedelta(hours=2)), original[1]]
    result = runner.run(moved)
    assert [o.status for o in result.outcomes] == ["updated", "existing"]
    stored = {m["externalId"]: m for m in _meetings(sandbox) if (m.get("externalId") or "").startswith(tag)}
    assert len(stored) == 2
    first = stored[f"{tag}-0000"]
    assert first["subject"] == "Moved visit"
    assert first["startDateTime"].startswith((original[0].start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))


def _meetings(sandbox):
    meetings = sandbox.meetings()
    return meetings["value"] if isinstance(meetings, dict) else meetings


class _NoticingThrottle(Throttle):
    """The transport's throttle, as it will say that Graph asked for a pause (scripted here)."""

    def notice(self):
        return "Graph asked us to slow down: waiting 12 s"


def test_progress_carries_the_throttles_notice_while_running_and_drops_it_at_the_end(sandbox, tmp_path):
    seen = []
    profile = Profile.load(sandbox.profile_path)
    client = GraphClient(profile, token_provider_for(profile), throttle=_NoticingThrottle())
    runner = Runner(client, Journal(tmp_path / "j.sqlite3"), flow="virtual-appointment",
                    on_progress=lambda p: seen.append((p.finished, p.notice)))
    result = runner.run(appointments(3, unique_tag("NTC")))
    assert (False, "Graph asked us to slow down: waiting 12 s") in seen
    assert seen[-1] == (True, None) and result.progress.notice is None


def test_the_next_run_starts_at_the_pace_the_tenant_accepted_last_time(sandbox, tmp_path):
    tag = unique_tag("PACE")
    runner, journal = make_runner(sandbox, tmp_path, flow="join-link")
    first = runner.run(appointments(200, tag))
    assert first.all_done
    pace = journal.runs()[0]["summary"]["pace"]
    assert pace["rate"] is None and 20 <= pace["in_flight"] <= 160  # at most 8 batches of 20 at once, none refused
    assert journal.last_pace(runner.client.profile.key) == pace
    # A new process (a new client and throttle) against the same profile starts there, not at the cautious window.
    following, _ = make_runner(sandbox, tmp_path, flow="join-link")
    following.run(appointments(5, unique_tag("PACE")))
    assert following.client.throttle.in_flight_limit >= max(START_IN_FLIGHT, pace["in_flight"])
    assert journal.last_pace("another-profile") is None
