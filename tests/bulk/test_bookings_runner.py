"""The bookings flow against a real sandbox: exactly once without an idempotency key, Graph confirms re-runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lib.bulk.bookings_runner import BookingsRunner
from lib.bulk.journal import Journal
from lib.graph.bookings import choose_target
from lib.graph.client import GraphClient
from lib.graph.pacing import Throttle
from lib.graph.profile import Profile
from lib.graph.signin import token_provider_for
from lib.model.appointment import Appointment, Client
from tests.dates import monday_ahead
from tests.helpers import unique_tag

BUSINESS_ZONE = ZoneInfo("America/New_York")


def clinic_day(n: int, tag: str, *, first_day: datetime | None = None) -> list[Appointment]:
    """``n`` 30-minute appointments inside the sandbox business's hours (Mon-Fri 08:00-18:00, New York), from
    ``first_day`` (naive midnight; by default the Monday five weeks on)."""
    out, day, slot = [], first_day or monday_ahead(), 0
    while len(out) < n:
        if day.weekday() < 5 and slot < 20:
            start = day.replace(hour=8, tzinfo=BUSINESS_ZONE) + timedelta(minutes=30 * slot)
            i = len(out)
            out.append(Appointment(f"Consultation {i}", start, start + timedelta(minutes=30),
                                   time_zone="America/New_York",
                                   clients=(Client(f"Client {i}", f"{tag.lower()}-{i}@example.com"),),
                                   external_appointment_id=f"{tag}-{i:04d}", source_rows=(i + 2,)))
            slot += 1
        else:
            day, slot = day + timedelta(days=1), 0
    return out


def make_runner(sandbox, journal_path, *, app_only=True, **options):
    profile = Profile.load(sandbox.app_profile_path if app_only else sandbox.profile_path)
    client = GraphClient(profile, token_provider_for(profile), throttle=Throttle())
    target = choose_target(client, _business(sandbox))
    return BookingsRunner(client, Journal(journal_path), target, **options)


def _business(sandbox) -> str:
    return sandbox.bookings()["value"][0]["id"]


def booked(sandbox, tag: str) -> dict[str, int]:
    """How many live appointments the sandbox holds per customer email of this test."""
    counts: dict[str, int] = {}
    for business in sandbox.bookings()["value"]:
        for appt in business.get("appointments") or []:
            if appt.get("cancelled"):
                continue
            for customer in appt.get("customers") or []:
                email = customer.get("emailAddress") or ""
                if email.startswith(tag.lower()):
                    counts[email] = counts.get(email, 0) + 1
    return counts


def test_every_row_is_booked_once_with_its_links(sandbox, tmp_path):
    tag = unique_tag("BK")
    result = make_runner(sandbox, tmp_path / "j.sqlite3").run(clinic_day(6, tag))
    assert result.all_done, [o.error for o in result.outcomes]
    assert {o.status for o in result.outcomes} == {"created"}
    assert all(o.join_web_url.startswith("https://teams.microsoft.com/") for o in result.outcomes)
    # the first service allows anonymous join: the client's link is the anonymous one
    assert all(o.client_join_web_url and o.client_join_web_url != o.join_web_url for o in result.outcomes)
    assert booked(sandbox, tag) == {f"{tag.lower()}-{i}@example.com": 1 for i in range(6)}


def test_a_rerun_confirms_each_booking_with_graph_and_books_nothing_new(sandbox, tmp_path):
    tag = unique_tag("BKR")
    runner = make_runner(sandbox, tmp_path / "j.sqlite3")
    first = runner.run(clinic_day(4, tag))
    before = sandbox.stats()["requests"]
    again = runner.run(clinic_day(4, tag))
    assert {o.status for o in again.outcomes} == {"existing"}
    assert [o.meeting_id for o in again.outcomes] == [o.meeting_id for o in first.outcomes]
    assert sandbox.stats()["requests"] - before == 4  # one GET each: Graph is the truth
    assert set(booked(sandbox, tag).values()) == {1}


def test_a_fresh_journal_finds_the_bookings_in_the_calendar_instead_of_booking_twice(sandbox, tmp_path):
    tag = unique_tag("BKF")
    make_runner(sandbox, tmp_path / "a.sqlite3").run(clinic_day(5, tag))
    again = make_runner(sandbox, tmp_path / "b.sqlite3").run(clinic_day(5, tag))
    assert {o.status for o in again.outcomes} == {"existing"}
    assert set(booked(sandbox, tag).values()) == {1}


def test_a_booking_deleted_in_bookings_is_booked_again_and_the_old_id_kept(sandbox, tmp_path):
    tag = unique_tag("BKD")
    runner = make_runner(sandbox, tmp_path / "j.sqlite3")
    first = runner.run(clinic_day(2, tag))
    gone = first.outcomes[0]
    runner.client.request("DELETE", "v1.0", f"/solutions/bookingBusinesses/{runner.target.business}"
                                            f"/appointments/{gone.meeting_id}")
    again = runner.run(clinic_day(2, tag))
    assert [o.status for o in again.outcomes] == ["created", "existing"]
    assert again.outcomes[0].meeting_id != gone.meeting_id
    assert [h["meeting_id"] for h in runner.journal.history(gone.key)] == [gone.meeting_id]
    assert set(booked(sandbox, tag).values()) == {1}


def test_a_moved_row_reschedules_its_booking_and_reports_updated(sandbox, tmp_path):
    tag = unique_tag("BKU")
    runner = make_runner(sandbox, tmp_path / "j.sqlite3")
    appts = clinic_day(2, tag)
    first = runner.run(appts)
    moved = [replace(appts[0], start=appts[0].start + timedelta(days=1), end=appts[0].end + timedelta(days=1)),
             appts[1]]
    again = runner.run(moved)
    assert [o.status for o in again.outcomes] == ["updated", "existing"]
    assert again.outcomes[0].meeting_id == first.outcomes[0].meeting_id
    got = runner.client.request("GET", "v1.0", f"/solutions/bookingBusinesses/{runner.target.business}"
                                               f"/appointments/{first.outcomes[0].meeting_id}").body
    assert datetime.fromisoformat(got["startDateTime"]["dateTime"]).astimezone(timezone.utc) == \
        moved[0].start.astimezone(timezone.utc)


def test_lost_replies_and_503s_never_book_twice_and_never_lose_a_row(fresh_sandbox, tmp_path):
    tag = unique_tag("BKX")
    fresh_sandbox.configure(faults="503=0.05,lost=0.05", seed=7)
    rows = clinic_day(40, tag)
    runner = make_runner(fresh_sandbox, tmp_path / "j.sqlite3")
    result = runner.run(rows)
    if not result.all_done:  # a row may fail after its attempts; the next run must finish it, never duplicate
        result = runner.run(rows)
    assert result.all_done, [o.error for o in result.outcomes if o.status == "failed"]
    assert fresh_sandbox.stats()["faultsInjected"] > 0
    fresh_sandbox.configure(faults="")
    assert booked(fresh_sandbox, tag) == {f"{tag.lower()}-{i}@example.com": 1 for i in range(40)}
    assert all(o.join_web_url for o in result.outcomes)


def test_an_unknown_service_names_the_services_there_are(sandbox):
    from lib.graph.bookings import BookingsChoiceError

    profile = Profile.load(sandbox.app_profile_path)
    client = GraphClient(profile, token_provider_for(profile), throttle=Throttle())
    with pytest.raises(BookingsChoiceError) as info:
        choose_target(client, _business(sandbox), "Dentistry")
    assert "Initial consultation (30 min, anonymous join)" in str(info.value)
    assert "Follow-up (15 min)" in str(info.value)


def test_an_app_booking_that_breaks_a_rule_is_refused_before_anything_is_sent(sandbox, tmp_path):
    tag = unique_tag("BKL")
    runner = make_runner(sandbox, tmp_path / "j.sqlite3")
    good, bad = clinic_day(2, tag)
    bad = replace(bad, end=bad.start + timedelta(minutes=50))
    before = sandbox.stats()["requests"]
    result = runner.run([good, bad])
    assert [o.status for o in result.outcomes] == ["created", "failed"]
    assert result.outcomes[1].error.startswith("Not sent: It lasts 50 minutes, but the service takes 30")
    assert sandbox.stats()["requests"] - before == 2  # the calendar look-up and the one good POST
    assert booked(sandbox, tag) == {f"{tag.lower()}-0@example.com": 1}
