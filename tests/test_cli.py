"""`python -m lib check|send` as a user runs it: exit codes, messages, RESULTS.csv, idempotency."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dates import low_day_ahead
from tests.helpers import clients_csv, meetings_with_prefix, unique_tag, write_csv

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, home: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "lib", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def read_results(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# -- check ----------------------------------------------------------------------------------------
def test_check_exits_0_and_prints_the_contract_json_for_a_valid_file(tmp_path):
    path = write_csv(tmp_path / "clients.csv", clients_csv(3, "CHK"))
    done = run_cli("check", path, "--json", "--tz", "America/New_York", home=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"] == {"total": 3, "ok": 3, "error": 0}
    first = report["rows"][0]
    assert first["row"] == 2 and first["status"] == "ok" and first["errors"] == []
    assert first["meeting"]["externalId"] and first["meeting"]["startDateTime"].endswith("-05:00")
    assert first["appointment"]["appointmentClients"][0]["emailAddress"] == "client0@example.com"
    assert first["appointment"]["settings"]["allowClientToJoinUsingBrowser"] is True


def test_check_exits_1_and_names_row_and_problem_for_invalid_rows(tmp_path):
    path = write_csv(tmp_path / "clients.csv", clients_csv(3, "CHK", bad_rows={1: {"Email": "anna.example.com"}}))
    done = run_cli("check", path, home=tmp_path)
    assert done.returncode == 1
    assert "Row 3" in done.stderr and "anna.example.com" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name, data", [
    ("empty.csv", b""),
    ("garbage.csv", bytes(range(256)) * 40),
    ("nothing-useful.csv", b"Colour,Size\nred,10\n"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
])
def test_check_exits_2_with_a_plain_message_for_unusable_files(tmp_path, name, data):
    path = write_csv(tmp_path / name, data)
    done = run_cli("check", path, home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() and "Traceback" not in done.stderr


def test_check_on_a_missing_file_says_so(tmp_path):
    done = run_cli("check", tmp_path / "nope.csv", home=tmp_path)
    assert done.returncode == 2 and "no such file" in done.stderr


def test_schedule_options_fill_rows_without_times(tmp_path):
    path = write_csv(tmp_path / "clients.csv", clients_csv(3, "SCH", with_times=False))
    done = run_cli("check", path, "--json", "--start", "2027-01-04T16:00", "--duration", "45", "--gap", "15",
                   "--tz", "Europe/Paris", "--hours", "09:00-17:00", home=tmp_path)
    assert done.returncode == 0, done.stderr
    starts = [r["meeting"]["startDateTime"] for r in json.loads(done.stdout)["rows"]]
    assert starts == ["2027-01-04T16:00:00+01:00", "2027-01-05T09:00:00+01:00", "2027-01-05T10:00:00+01:00"]


# -- send -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("flow, profile_attr", [
    ("virtual-appointment", "profile_path"),
    ("virtual-appointment", "app_profile_path"),
    ("join-link", "profile_path"),
])
def test_send_creates_every_row_and_a_second_run_creates_nothing_new(sandbox, tmp_path, flow, profile_attr):
    tag = unique_tag("E2E")
    path = write_csv(tmp_path / "clients.csv", clients_csv(5, tag))
    out = tmp_path / "RESULTS.csv"
    profile = getattr(sandbox, profile_attr)
    done = run_cli("send", path, "--connection", profile, "--flow", flow, "--out", out, home=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = read_results(out)
    assert [r["row"] for r in rows] == ["2", "3", "4", "5", "6"]
    assert {r["status"] for r in rows} == {"created"}
    assert all(r["joinWebUrl"].startswith("https://teams.microsoft.com/l/meetup-join/") for r in rows)
    assert all(r["clientJoinWebUrl"].startswith("https://visit.teams.microsoft.com/") for r in rows)
    assert all(r["onlineMeetingId"] and r["externalAppointmentId"].startswith(tag) for r in rows)
    assert sum(meetings_with_prefix(sandbox, tag).values()) == 5

    again = run_cli("send", path, "--connection", profile, "--flow", flow, "--out", out, home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert {r["status"] for r in read_results(out)} == {"existing"}
    assert sum(meetings_with_prefix(sandbox, tag).values()) == 5


def test_send_with_a_fresh_journal_still_makes_no_duplicate(sandbox, tmp_path):
    tag = unique_tag("NOJ")
    path = write_csv(tmp_path / "clients.csv", clients_csv(4, tag))
    first = run_cli("send", path, "--connection", sandbox.profile_path, "--out", tmp_path / "a.csv", home=tmp_path / "h1")
    second = run_cli("send", path, "--connection", sandbox.profile_path, "--out", tmp_path / "b.csv", home=tmp_path / "h2")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert {r["status"] for r in read_results(tmp_path / "b.csv")} == {"existing"}
    assert meetings_with_prefix(sandbox, tag) == {f"{tag}-{i:04d}": 1 for i in range(4)}


def test_join_link_with_app_only_sign_in_is_refused_before_sending(sandbox, tmp_path):
    tag = unique_tag("APP")
    path = write_csv(tmp_path / "clients.csv", clients_csv(2, tag))
    done = run_cli("send", path, "--connection", sandbox.app_profile_path, "--flow", "join-link",
                   "--out", tmp_path / "r.csv", home=tmp_path)
    assert done.returncode == 2
    assert "delegated" in done.stderr.lower() or "sign" in done.stderr.lower()
    assert not meetings_with_prefix(sandbox, tag)


def test_send_skips_invalid_rows_reports_them_and_exits_0_when_valid_rows_are_created(sandbox, tmp_path):
    tag = unique_tag("INV")
    path = write_csv(tmp_path / "clients.csv", clients_csv(3, tag, bad_rows={2: {"Email": "nobody@", "Phone": "12"}}))
    out = tmp_path / "RESULTS.csv"
    done = run_cli("send", path, "--connection", sandbox.profile_path, "--out", out, home=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {r["row"]: r for r in read_results(out)}
    assert rows["4"]["status"] == "invalid" and rows["4"]["error"]
    assert rows["2"]["status"] == rows["3"]["status"] == "created"


@pytest.mark.parametrize("concurrency", ["8", "1"])  # 1: the first wave is one batch, then 80 of the 90 rows, then all
def test_rows_further_down_still_decide_for_the_rows_sent_first(sandbox, tmp_path, concurrency):
    # send checks one batch of rows, sends it, and checks the rest meanwhile: a row further down that makes
    # an early row wrong (a broken row of the same appointment) must keep the early one from being sent
    tag = unique_tag("AHD")
    lines = ["Name,Email,Phone,Appointment ID,Date,Time"]
    for i in range(90):
        lines.append(f"Client {i},client{i}@example.com,+1 212 555 {1000 + i:04d},{tag}-{i:04d},2027-03-01,"
                     f"{8 + i // 6:02d}:{10 * (i % 6):02d}")
    lines[51] = lines[51].replace("client50@example.com", "nobody@")  # row 52: skipped once the file is checked
    lines[66] = f"Client 65,nobody@,,{tag}-0003,2027-03-01,08:30"  # row 5's appointment, broken: both refused
    lines[67] = f"Client 66,client66@example.com,,{tag}-0030,2027-03-01,13:00"  # row 32's id and time: a second client
    lines[62] = f"Client 61,nobody@,,{tag}-0024,2027-03-01,12:00"  # row 26's appointment (a part of 40 rows), broken
    path = write_csv(tmp_path / "clients.csv", "\n".join(lines).encode())
    out = tmp_path / "RESULTS.csv"
    done = run_cli("send", path, "--connection", sandbox.profile_path, "--out", out, "--concurrency", concurrency,
                   home=tmp_path)
    assert done.returncode == 0, done.stderr
    results = {r["row"]: r for r in read_results(out)}
    assert results["26"]["status"] == results["63"]["status"] == "invalid"
    assert results["52"]["status"] == "invalid" and "Row 52 will be skipped" in done.stderr
    assert results["5"]["status"] == results["67"]["status"] == "invalid" and "Row 5 will be skipped" in done.stderr
    assert results["32"]["status"] == results["68"]["status"] == "created"
    assert results["32"]["onlineMeetingId"] == results["68"]["onlineMeetingId"]
    assert "client66@example.com" in results["32"]["clients"] or results["68"]["Client email"] == "client66@example.com"
    made = meetings_with_prefix(sandbox, tag)
    assert f"{tag}-0003" not in made and f"{tag}-0050" not in made and f"{tag}-0024" not in made
    assert len(made) == sum(made.values()) == 90 - 5 - 1  # five rows refused; rows 32 and 68 share a meeting


def test_a_killed_send_is_finished_by_running_it_again_without_duplicates(fresh_sandbox, tmp_path):
    tag = unique_tag("KIL")
    n = 60
    path = write_csv(tmp_path / "clients.csv", clients_csv(n, tag))
    fresh_sandbox.configure(latency=150)
    env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "lib", "send", str(path), "--connection", str(fresh_sandbox.profile_path),
                             "--concurrency", "1", "--no-batch", "--out", str(tmp_path / "r1.csv")],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(meetings_with_prefix(fresh_sandbox, tag).values()) < 5:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    created_before = sum(meetings_with_prefix(fresh_sandbox, tag).values())
    assert 0 < created_before < n

    fresh_sandbox.configure(latency=0)
    done = run_cli("send", path, "--connection", fresh_sandbox.profile_path, "--out", tmp_path / "r2.csv", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {r["status"] for r in read_results(tmp_path / "r2.csv")} <= {"created", "existing"}
    assert meetings_with_prefix(fresh_sandbox, tag) == {f"{tag}-{i:04d}": 1 for i in range(n)}


def test_send_with_a_broken_profile_exits_2_and_says_which_field(tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"name": "x", "cloud": "mars", "auth": "device_code"}))
    path = write_csv(tmp_path / "clients.csv", clients_csv(1, "BRK"))
    done = run_cli("send", path, "--connection", profile, home=tmp_path)
    assert done.returncode == 2 and "cloud" in done.stderr and "Traceback" not in done.stderr


def test_a_fresh_sandbox_behind_an_old_journal_gets_real_meetings_and_no_dead_links(sandbox, fresh_sandbox, tmp_path):
    tag = unique_tag("FRS")
    path = write_csv(tmp_path / "clients.csv", clients_csv(20, tag))
    first = run_cli("send", path, "--connection", sandbox.profile_path, "--flow", "join-link",
                    "--out", tmp_path / "a.csv", home=tmp_path)
    assert first.returncode == 0, first.stderr
    # Same journal (same home), a new sandbox that holds nothing: every row must really be created there.
    done = run_cli("send", path, "--connection", fresh_sandbox.profile_path, "--flow", "join-link",
                   "--out", tmp_path / "b.csv", home=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = read_results(tmp_path / "b.csv")
    assert {r["status"] for r in rows} == {"created"}
    held = {m["id"] for m in fresh_sandbox.meetings()}
    assert {r["onlineMeetingId"] for r in rows} <= held and len(held) == 20
    assert "20 created" in done.stderr and " in 0.0" not in done.stderr


def test_two_sends_at_once_share_one_journal_without_losing_rows(sandbox, tmp_path):
    env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(tmp_path / "home"))
    tags = [unique_tag("TWO"), unique_tag("TWO")]
    procs = []
    for n, tag in enumerate(tags):
        path = write_csv(tmp_path / f"c{n}.csv", clients_csv(60, tag))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "lib", "send", str(path), "--connection", str(sandbox.profile_path),
             "--no-batch", "--concurrency", "4", "--out", str(tmp_path / f"r{n}.csv")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=180) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err
    from lib.bulk.journal import Journal
    journal = Journal(tmp_path / "home" / "journal.sqlite3")
    for tag in tags:
        mine = [e for e in journal.entries() if e.external_appointment_id.startswith(tag)]
        assert len(mine) == 60 and all(e.status == "created" and e.meeting_id for e in mine)
    assert len(journal.runs()) == 2 and {r["state"] for r in journal.runs()} == {"finished"}


def test_a_corrupt_journal_is_kept_aside_with_a_plain_message_and_the_run_goes_on(sandbox, tmp_path):
    tag = unique_tag("COR")
    garbage = b"this is not a journal\x00" * 200
    (tmp_path / "journal.sqlite3").write_bytes(garbage)
    path = write_csv(tmp_path / "clients.csv", clients_csv(3, tag))
    done = run_cli("send", path, "--connection", sandbox.profile_path, "--out", tmp_path / "r.csv", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "could not be read" in done.stderr and "fresh journal" in done.stderr
    kept = list(tmp_path.glob("journal.sqlite3.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == garbage
    assert {r["status"] for r in read_results(tmp_path / "r.csv")} == {"created"}


def test_the_progress_line_says_when_graph_asked_us_to_wait(capsys):
    from lib.bulk.runner import Progress
    from lib.cli import _ProgressPrinter

    printer = _ProgressPrinter()
    printer(Progress(total=40, done=12, created=12, notice="Graph asked us to slow down: waiting 12 s"))
    line = capsys.readouterr().err
    assert "12/40 done" in line and "Graph asked us to slow down: waiting 12 s" in line


def test_check_and_send_take_date_order_and_refuse_an_unknown_one(tmp_path):
    day = low_day_ahead()  # e.g. 03/04: 3 April or March 4 (the CLI checks against today)
    path = tmp_path / "fr.csv"
    path.write_text(f"Name,Email,Date,Time\nAnna,anna@example.com,{day:%d/%m/%Y},09:00\n")
    done = run_cli("check", path, "--json", "--date-order", "DMY", home=tmp_path)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)["rows"][0]
    assert row["meeting"]["startDateTime"].startswith(f"{day:%Y-%m-%d}T09:00") and row["warnings"] == []
    wrong = run_cli("check", path, "--date-order", "DDMM", home=tmp_path)
    assert wrong.returncode == 2 and "--date-order" in wrong.stderr and "Traceback" not in wrong.stderr
    assert "--date-order" in run_cli("send", "--help", home=tmp_path).stdout
