"""The logic behind the bulk page: its schedule settings, the run's tallies and words, the kept job.

The page draws widgets; what it decides (how retried outcomes replace failed ones, what the counts
say, what is kept in the data folder so a browser reload loses nothing) lives here, unit-tested.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path

import pandas as pd

from lib.bulk.journal import Journal
from lib.bulk.results import invalid_rows
from lib.bulk.runner import Outcome
from lib.model.bookings import BookingsTarget, rule_problems
from lib.screens import check_grid as grid
from lib.spreadsheet.check import CheckReport, join_messages
from lib.spreadsheet.schedule import Schedule


# -- the schedule settings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleChoice:
    """What the Schedule step's widgets hold: hashable (a cache key) and kept as JSON."""

    first_day: date
    first_start: time
    duration: int = 30
    gap: int = 0
    time_zone: str = "UTC"
    subject: str = "Virtual appointment"
    hours: tuple[time, time] | None = None
    weekdays_only: bool = True

    def schedule(self) -> Schedule:
        """The scheduler for these settings (a ModelError names the setting to fix)."""
        return Schedule(start=datetime.combine(self.first_day, self.first_start), duration=int(self.duration),
                        gap=int(self.gap), tz=self.time_zone, subject=self.subject, hours=self.hours,
                        weekdays_only=self.weekdays_only)

    def to_json(self) -> dict:
        data = asdict(self)
        data["first_day"] = self.first_day.isoformat()
        data["first_start"] = self.first_start.strftime("%H:%M")
        data["hours"] = [t.strftime("%H:%M") for t in self.hours] if self.hours else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ScheduleChoice":
        hours = data.get("hours")
        return cls(first_day=date.fromisoformat(data["first_day"]), first_start=time.fromisoformat(data["first_start"]),
                   duration=int(data.get("duration", 30)), gap=int(data.get("gap", 0)),
                   time_zone=data.get("time_zone", "UTC"), subject=data.get("subject", "Virtual appointment"),
                   hours=tuple(time.fromisoformat(t) for t in hours) if hours else None,
                   weekdays_only=bool(data.get("weekdays_only", True)))


# -- what the run did ----------------------------------------------------------------------------------
def merge_retried(previous: list[Outcome], retried: list[Outcome]) -> list[Outcome]:
    """The earlier run's outcomes, each replaced by its retry when there was one (same order)."""
    by_key = {o.key: o for o in retried}
    return [by_key.get(o.key, o) for o in previous]


def collect(result, *, retry: bool, previous: dict | None, source: str, invalid: list, run_ids: list) -> dict:
    """The results a finished run leaves (a retry's outcomes replace the failed ones); ``run_ids`` follows."""
    retried = bool(retry and previous)
    outcomes = merge_retried(previous["outcomes"], list(result.outcomes)) if retried else list(result.outcomes)
    run_ids[:] = (run_ids + [result.run_id]) if retried else [result.run_id]
    return {"source": source, "outcomes": outcomes, "cancelled": result.cancelled,
            "invalid": previous["invalid"] if retried else invalid}


@dataclass(frozen=True)
class Tally:
    """The counts the results summary names."""

    created: int = 0
    existing: int = 0
    failed: int = 0
    skipped: int = 0
    linked: int = 0
    cancelled: bool = False
    updated: int = 0

    @classmethod
    def of(cls, outcomes: list[Outcome], invalid: list, cancelled: bool = False) -> "Tally":
        return cls(created=sum(o.status == "created" for o in outcomes),
                   existing=sum(o.status == "existing" for o in outcomes),
                   updated=sum(o.status == "updated" for o in outcomes),
                   failed=sum(o.status == "failed" for o in outcomes), skipped=len(invalid),
                   linked=sum(bool(o.client_join_web_url or o.join_web_url) for o in outcomes if o.status != "failed"),
                   cancelled=cancelled)

    @property
    def all_good(self) -> bool:
        return not self.failed and not self.cancelled

    def summary(self) -> str:
        """``3 created, 1 updated, 8 already there (confirmed by Microsoft Graph), 1 failed.`` and what the links are.

        Every row the run reports was confirmed by Graph in that run, so "already there" is Graph's word,
        not the journal's."""
        parts = [f"{self.created:,} created"]
        if self.updated:
            parts.append(f"{self.updated:,} updated")
        if self.existing:
            parts.append(f"{self.existing:,} already there (confirmed by Microsoft Graph)")
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        if self.skipped:
            parts.append(f"{self.skipped:,} skipped (need attention)")
        text = ", ".join(parts)
        if self.cancelled:
            return text + " — the run was cancelled."
        if self.failed:
            return text + "."
        return f"{text}. Every appointment has its join link ({self.linked:,})."


def progress_line(progress, total: int) -> str:
    """``1,570 of 5,000 done: 1,500 created, 10 updated, 60 already there · 3 failed · about 4 s left``.

    While Graph holds the run back, its notice replaces the time left, so a standing bar says why."""
    total = progress.total or total
    made = progress.created + progress.existing + progress.updated
    counts = [f"{progress.created:,} created"]
    if progress.updated:
        counts.append(f"{progress.updated:,} updated")
    if progress.existing:
        counts.append(f"{progress.existing:,} already there")
    parts = [f"{made:,} of {total:,} done: " + ", ".join(counts)]
    if progress.failed:
        parts.append(f"{progress.failed:,} failed")
    if progress.notice:
        parts.append(progress.notice)
    else:
        parts.append(f"about {progress.seconds_left:.0f} s left" if progress.seconds_left else "estimating time left…")
    return " · ".join(parts)


def create_label(count: int) -> str:
    return f"Create {count:,} appointment{'s' if count != 1 else ''}"


def grouping_note(report) -> str:
    """Why fewer appointments than ready rows: rows that share an appointment id are one appointment."""
    shared = [a for a in report.appointments if len(a.source_rows) > 1]
    if not shared:
        return ""
    first = shared[0]
    rows = ", ".join(str(r) for r in first.source_rows)
    more = f" ({len(shared) - 1:,} more like it)" if len(shared) > 1 else ""
    return (f"{report.ok:,} rows ready make {len(report.appointments):,} appointments: rows {rows} share the "
            f"appointment id {first.appointment_id}, so they are one appointment with {len(first.clients)} "
            f"clients{more}.")


# -- the check as the Create step uses it (with the Bookings rules) ----------------------------------------
def rule_refusals(report: CheckReport, target: BookingsTarget | None, *, app_only: bool,
                  now: datetime) -> dict[int, str]:
    """Spreadsheet row -> why Microsoft Bookings would refuse its appointment from an app, before sending.

    The rules bind app-only connections only (a signed-in person is not held to them), and only when
    Graph told us the business's rules."""
    if target is None or target.rules is None or not app_only:
        return {}
    refused: dict[int, str] = {}
    for appt in report.appointments:
        problems = rule_problems(appt, target.rules, now=now, staff_chosen=bool(target.staff_ids))
        if problems:
            for row in appt.source_rows:
                refused[row] = join_messages(["Microsoft Bookings would refuse this from an app", " ".join(problems)])
    return refused


@dataclass(frozen=True)
class Checked:
    """The check report less the rows Bookings would refuse: the counts, what to send, what to skip."""

    report: CheckReport
    refused: dict = field(default_factory=dict)  # spreadsheet row -> why Bookings would refuse it

    @property
    def ok(self) -> int:
        return self.report.ok - len(self.refused)

    @property
    def error(self) -> int:
        return self.report.error + len(self.refused)

    @cached_property
    def appointments(self) -> list:
        if not self.refused:
            return self.report.appointments
        return [a for a in self.report.appointments if not any(r in self.refused for r in a.source_rows)]

    def invalid(self) -> list[tuple[int, str]]:
        """The rows the run skips, with why (listed in the results)."""
        return sorted(invalid_rows(self.report) + list(self.refused.items()))

    def problems(self) -> list[tuple[int, str]]:
        """(row, what to fix) for every row that needs attention, in the file's order."""
        found = [(r.row, grid.problem_text(r)) for r in self.report.rows if r.status != "ok"]
        return sorted(found + list(self.refused.items()))

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The check grid with the refused rows marked to fix (a copy: the cached grid stays as it was)."""
        if not self.refused:
            return frame
        frame = frame.copy()
        hit = frame[grid.ROW].isin(list(self.refused))
        frame.loc[hit, grid.STATUS] = grid.ERROR
        frame.loc[hit, grid.PROBLEM] = [join_messages([p, self.refused[int(r)]]) if p else self.refused[int(r)]
                                        for r, p in zip(frame.loc[hit, grid.ROW], frame.loc[hit, grid.PROBLEM])]
        return frame


def service_length_note(target: BookingsTarget) -> str:
    """``Initial consultation: 30 minutes`` and why that is the slots' length."""
    if not target.duration_minutes:
        return (f"{target.service_name or 'The service'} has no length set in Microsoft Bookings: choose the "
                "length of each slot below.")
    return (f"{target.service_name}: {target.duration_minutes} minutes — the service's length in Microsoft "
            "Bookings, used for each slot (an app may book only that length).")


def bookings_email_note(target: BookingsTarget) -> str:
    """What the customers got from Microsoft Bookings, so nobody sends them a second message."""
    if target.opt_out_of_customer_email:
        return ("Customer emails are turned off for this business's bookings (opted out), so Microsoft Bookings did "
                "not write to the clients: send each one their link, for example from the Excel download.")
    return ("Microsoft Bookings emails each customer their confirmation with the join link, so there is no "
            "message to send from here.")


# -- results kept in the journal ---------------------------------------------------------------------
def outcomes_from_journal(journal: Journal, run_ids: list[str]) -> tuple[list[Outcome], list[tuple[int, str]]]:
    """A run's outcomes and skipped rows read back from the journal (after a reload); later runs' ids
    (retries of the failed ones) replace what they redid."""
    outcomes: list[Outcome] = []
    invalid: list[tuple[int, str]] = []
    for number, run_id in enumerate(run_ids):
        rows = journal.run_rows(run_id)
        said = {r["appointment_key"]: r for r in rows if r["appointment_key"]}
        entries = journal.get_many(sorted(said))
        # The run's own row status: a cancelled row is "failed" there while its entry stays pending.
        found = [outcome_of(entry, status=said[key]["status"], error=said[key]["error"] or "")
                 for key, entry in entries.items()]
        found.sort(key=lambda o: min(o.appointment.source_rows or (0,)))
        if number == 0:
            outcomes = found
            invalid = [(r["row"], r["error"] or "") for r in rows if not r["appointment_key"]]
        else:
            outcomes = merge_retried(outcomes, found)
    return outcomes, invalid


def file_details(sheet) -> list[str]:
    """``12 rows · 5 columns · sheet “Clients” · encoding cp1252 · delimiter semicolon``, as parts."""
    details = [f"{len(sheet.rows):,} rows", f"{len(sheet.headers)} columns"]
    if sheet.sheet_name:
        details.append(f"sheet “{sheet.sheet_name}”")
    if sheet.encoding:
        details.append(f"encoding {sheet.encoding}")
    if sheet.delimiter:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        details.append("delimiter " + names.get(sheet.delimiter, repr(sheet.delimiter)))
    return details


def outcome_of(entry, *, status: str | None = None, error: str | None = None) -> Outcome:
    """A journal entry as an Outcome, so results and exports treat both alike."""
    appt = replace(entry.appointment(), source_rows=tuple(entry.rows))
    return Outcome(key=entry.key, appointment=appt, organizer_id=entry.organizer, status=status or entry.status,
                   meeting_id=entry.meeting_id or "", join_web_url=entry.join_web_url or "",
                   client_join_web_url=entry.client_join_web_url or "", error=entry.error or "" if error is None else error,
                   request_id=entry.request_id or "")


def source_key(data: bytes, sheet_name: str | None) -> str:
    """Which file and sheet the page's edits and results belong to."""
    return hashlib.sha256(data).hexdigest()[:16] + f":{sheet_name or ''}"


# -- the job kept in the data folder -----------------------------------------------------------------
@dataclass
class KeptJob:
    """The bulk page's work: the file, the sheet, the column matching, the schedule, the cell fixes, the run."""

    name: str
    data: bytes
    sheet: str | None = None
    mapping: dict = field(default_factory=dict)
    schedule: ScheduleChoice | None = None
    edits: dict = field(default_factory=dict)  # spreadsheet row -> {header: text}
    run_ids: list = field(default_factory=list)  # the run, then its retries
    rows: int = 0
    # date column header -> {"question", "readings", "order": "DMY" | "MDY" | None}: the answers asked for
    dates: dict = field(default_factory=dict)

    @property
    def fixes(self) -> int:
        return sum(len(cells) for cells in self.edits.values())

    def offer(self) -> str:
        """``Continue with clinic-export.csv (12 rows, 2 fixes)``"""
        fixes = f", {self.fixes} fix{'es' if self.fixes != 1 else ''}" if self.fixes else ""
        return f"Continue with {self.name} ({self.rows:,} row{'s' if self.rows != 1 else ''}{fixes})"


class JobStore:
    """One kept job in a folder (``studio_home()/jobs/current``): the file's bytes and a JSON of the rest."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def save(self, job: KeptJob) -> None:
        """Write the job; the file's bytes only when they changed (a 5,000-row file is written once)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        source = self.folder / "source"
        if not source.exists() or source.stat().st_size != len(job.data) or source.read_bytes() != job.data:
            _write(source, job.data)
        meta = {"name": job.name, "sheet": job.sheet, "mapping": job.mapping, "rows": job.rows,
                "schedule": job.schedule.to_json() if job.schedule else None, "run_ids": job.run_ids,
                "dates": job.dates,
                "edits": [[row, cells] for row, cells in sorted(job.edits.items())]}
        _write(self.folder / "job.json", json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))

    def load(self) -> KeptJob | None:
        """The kept job, or None when there is none (or it cannot be read any more)."""
        try:
            meta = json.loads((self.folder / "job.json").read_text(encoding="utf-8"))
            data = (self.folder / "source").read_bytes()
            schedule = ScheduleChoice.from_json(meta["schedule"]) if meta.get("schedule") else None
            return KeptJob(name=meta["name"], data=data, sheet=meta.get("sheet"), mapping=dict(meta.get("mapping") or {}),
                           schedule=schedule, edits={int(r): dict(c) for r, c in meta.get("edits") or []},
                           run_ids=list(meta.get("run_ids") or []), rows=int(meta.get("rows") or 0),
                           dates={str(h): dict(q) for h, q in (meta.get("dates") or {}).items()})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
