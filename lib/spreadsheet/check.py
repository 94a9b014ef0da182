"""Check every spreadsheet row and turn the good ones into appointments.

Each message says what is wrong, in which column, and what to write instead; the row number (as seen
in Excel) travels beside it in ``RowResult.row``, so messages do not repeat it. Nothing here guesses
silently: an ambiguous local time is a warning saying which one was used, a nonexistent one an error.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from lib.model.appointment import Appointment, Client, ModelError, derive_scheduled_id
from lib.spreadsheet.cells import (GUID, CellError, as_utc, check_email, check_phone, clean, col, offset_text, parse_minutes,
                          parse_moment, parse_yes_no, plus_minutes, resolve_zone, show, wall_clock)
from lib.spreadsheet.columns import FIELD_BY_KEY, FIELD_KEYS
from lib.spreadsheet.schedule import Schedule
from lib.spreadsheet.read import Sheet

MAX_NAME = 256
MAX_SUBJECT = 255
MAX_DURATION = 24 * 60
MONTH_FIRST_REGIONS = {"US", "PR", "GU", "VI", "AS", "MP", "UM", "PH", "FM", "MH", "PW", "BZ"}


@dataclass
class RowResult:
    row: int
    status: str  # "ok" | "error"
    errors: list[str]
    warnings: list[str]
    appointment: Appointment | None
    values: dict[str, str]
    index: int = -1  # position in Sheet.rows

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class CheckReport:
    rows: list[RowResult]
    appointments: list[Appointment]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def ok(self) -> int:
        return sum(1 for r in self.rows if r.status == "ok")

    @property
    def error(self) -> int:
        return sum(1 for r in self.rows if r.status != "ok")

    @property
    def warning_count(self) -> int:
        return sum(1 for r in self.rows if r.warnings)

    def row(self, number: int) -> RowResult | None:
        """The result for a spreadsheet row number, or None."""
        for r in self.rows:
            if r.row == number:
                return r
        return None

    def to_json(self) -> dict:
        """The ``check --json`` object of the contract."""
        rows = []
        for r in self.rows:
            a = r.appointment if r.status == "ok" else None
            rows.append({
                "row": r.row, "status": r.status, "errors": list(r.errors), "warnings": list(r.warnings),
                "appointment": a.virtual_appointment_body() if a else None,
                "meeting": a.meeting_body() if a else None,
            })
        return {"rows": rows, "summary": {"total": self.total, "ok": self.ok, "error": self.error}}


# -- the check -------------------------------------------------------------------------------------
@dataclass
class _Draft:
    index: int
    row: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    client: Client | None = None
    zone_name: str = "UTC"
    zone: ZoneInfo | None = None
    start: datetime | None = None  # aware, when the row has its own time
    end: datetime | None = None
    minutes: int | None = None  # the row's own length, from an end or duration column
    has_time: bool = False  # the row tried to give a time (even if unreadable)
    subject: str = ""
    organizer: str = ""
    browser_join: bool | None = True
    url: str = ""
    group: str = ""


def check_sheet(sheet: Sheet, mapping: dict, schedule: Schedule, *, default_region: str = "US",
                organizer: str = "", now: datetime | None = None) -> CheckReport:
    """Check every row of ``sheet`` with ``mapping`` (field key -> header); rows without times get slots."""
    region = (default_region or "US").upper()
    month_first = region in MONTH_FIRST_REGIONS
    columns: dict[str, int] = {}
    headers: dict[str, str | None] = {}
    for key in FIELD_KEYS:
        header = (mapping or {}).get(key)
        if header and header in sheet.headers:
            columns[key] = sheet.headers.index(header)
            headers[key] = header
        else:
            headers[key] = None
    now = now or datetime.now(timezone.utc)
    default_zone_name, default_zone = resolve_zone(schedule.tz)
    if default_zone is None:
        raise ModelError("Time zone", f"'{schedule.tz}' is not a time zone; use a name such as America/New_York.")

    drafts: list[_Draft] = []
    for index, (number, cells) in enumerate(zip(sheet.row_numbers, sheet.rows)):
        values = {key: clean(cells[i]) if i < len(cells) else "" for key, i in columns.items()}
        draft = _Draft(index=index, row=number, values=values)
        try:
            _check_row(draft, headers, schedule, default_zone_name, default_zone, region, month_first, organizer)
        except Exception:  # a value nobody foresaw must not stop the other rows
            draft.errors.append("This row could not be checked: one of its cells holds something unexpected. "
                                "Check the row's cells against the column headings.")
            draft.has_time = True  # keep it out of the scheduler
        drafts.append(draft)

    # Groups: rows sharing an appointment id are one appointment; the first row leads.
    groups: dict[str, list[_Draft]] = {}
    units: list[list[_Draft]] = []
    for d in drafts:
        if d.group:
            members = groups.get(d.group)
            if members is None:
                members = groups[d.group] = []
                units.append(members)
            members.append(d)
        else:
            units.append([d])

    # Slots for appointments without any time, in file order (rows with errors keep their slot, so
    # fixing a row never moves the others).
    needing = [u for u in units if not any(d.has_time for d in u)]
    slot_iter = schedule.slots(len(needing), now=now) if needing else iter(())
    slot_for = {id(u): s for u, s in zip(needing, slot_iter)}

    results: dict[int, RowResult] = {}
    appointments: list[Appointment] = []
    seen_ids: dict[str, int] = {}
    scheduled_seen: Counter = Counter()
    for unit in units:
        head = unit[0]  # subject, organizer and settings come from the group's first row
        lead = next((d for d in unit if d.has_time), head)  # the time from the first row that gives one
        if id(unit) in slot_for:
            slot_start, slot_end = slot_for[id(unit)]
            start = slot_start.astimezone(head.zone or default_zone)
            minutes = head.minutes
            end = plus_minutes(start, minutes) if minutes else slot_end.astimezone(head.zone or default_zone)
        else:
            start, end = lead.start, lead.end
            if start is not None and end is None:
                end = plus_minutes(start, lead.minutes or schedule.duration)
        if len(unit) > 1:
            _check_group(unit, lead, head, start, end)
        failing = [d for d in unit if d.errors]
        if failing:
            for d in unit:
                if not d.errors:
                    rows = ", ".join(str(f.row) for f in failing)
                    d.errors.append(f"This row is part of appointment {show(d.group)} with row {rows}, which "
                                    "needs fixing first; the appointment is created once all its rows are correct.")
            for d in unit:
                results[d.index] = _result(d, None)
            continue
        if start is None or end is None:  # a row with a time that failed already has an error
            for d in unit:
                results[d.index] = _result(d, None)
            continue
        clients, emails = [], set()
        for d in unit:
            who = (d.client.email or d.client.phone or d.client.display_name).lower()
            if who in emails:
                d.warnings.append(f"This client is already in this appointment (row {unit[0].row}); "
                                  "they are invited once.")
                continue
            emails.add(who)
            clients.append(d.client)
        zone_name = head.zone_name
        if as_utc(start) >= as_utc(end):
            lead.errors.append(f"{_time_column(headers)}: the end ({wall_clock(end)}) is not after the start "
                               f"({wall_clock(start)}) — check the times.")
            for d in unit:
                results[d.index] = _result(d, None)
            continue
        if start.astimezone(timezone.utc) < now.astimezone(timezone.utc):
            lead.warnings.append(f"The appointment time {wall_clock(start)} ({zone_name}) is in the past.")
        appointment_id = head.group
        if not appointment_id and id(unit) in slot_for:
            who = tuple(sorted((c.email or c.phone or c.display_name).lower() for c in clients))
            scheduled_seen[who] += 1
            appointment_id = derive_scheduled_id(clients, scheduled_seen[who])
        appointment = Appointment(
            subject=head.subject or schedule.subject,
            start=start.astimezone(head.zone), end=end.astimezone(head.zone), time_zone=zone_name,
            organizer=head.organizer, clients=tuple(clients), allow_browser_join=head.browser_join,
            external_appointment_id=appointment_id, external_appointment_url=head.url,
            source_rows=tuple(d.row for d in unit),
        ).with_ids()
        key_ids = (appointment.external_appointment_id, appointment.external_id)
        earlier = next((seen_ids[k] for k in key_ids if k in seen_ids), None)
        if earlier is not None:
            who = (clients[0].email or clients[0].phone or clients[0].label) if clients else ""
            lead.errors.append(f"This row repeats row {earlier}: the same client ({who}) at the same time "
                               f"({wall_clock(start)}). Delete one of the two rows, or give them different times.")
            for d in unit:
                results[d.index] = _result(d, None)
            continue
        for k in key_ids:
            seen_ids[k] = lead.row
        appointments.append(appointment)
        for d in unit:
            results[d.index] = _result(d, appointment)

    rows = [results[d.index] for d in drafts]
    return CheckReport(rows=rows, appointments=appointments)


def _result(d: _Draft, appointment: Appointment | None) -> RowResult:
    status = "ok" if not d.errors and appointment is not None else "error"
    return RowResult(row=d.row, status=status, errors=d.errors, warnings=d.warnings,
                     appointment=appointment if status == "ok" else None, values=d.values, index=d.index)


def _time_column(headers: dict) -> str:
    for key in ("end", "duration", "start", "time"):
        if headers.get(key):
            return col(headers[key], "")
    return "Times"


def _check_group(unit: list[_Draft], lead: _Draft, head: _Draft, start, end) -> None:
    for d in unit:
        if d is lead:
            continue
        differs = (start is not None and end is not None and d.has_time and not d.errors and d.start is not None
                   and (as_utc(d.start) != as_utc(start) or (d.end is not None and as_utc(d.end) != as_utc(end))))
        if differs:
            d.warnings.append(f"This row shares the appointment {show(d.group)} with row {lead.row} but has a "
                              f"different time ({wall_clock(d.start)}); the time of row {lead.row} "
                              f"({wall_clock(start) if start else '?'}) is used for everyone.")
        if d is not head and d.organizer and head.organizer and d.organizer.lower() != head.organizer.lower():
            d.warnings.append(f"This row shares the appointment {show(d.group)} with row {head.row} but names "
                              f"another organizer ({d.organizer}); the organizer of row {head.row} is used.")


def _check_row(d: _Draft, headers: dict, schedule: Schedule, default_zone_name: str, default_zone: ZoneInfo,
               region: str, month_first: bool, organizer: str) -> None:
    v = d.values

    def column(key: str) -> str:
        return col(headers[key], FIELD_BY_KEY[key].label)

    # Who
    email, phone = "", ""
    if v.get("email"):
        email, problem = check_email(v["email"])
        if problem:
            d.errors.append(f"{column('email')}: {show(v['email'])} {problem}")
    if v.get("phone"):
        phone, problem = check_phone(v["phone"], region)
        if problem:
            d.errors.append(f"{column('phone')}: {show(v['phone'])} {problem}")
    if not v.get("email") and not v.get("phone"):
        where = " or ".join(f'column "{headers[k]}"' for k in ("email", "phone") if headers[k])
        d.errors.append("No email or mobile phone for this client: write their email address"
                        + (f" in {where}." if where else " (add an Email column).")
                        + " A row needs at least one of the two.")
    name = v.get("name", "")
    if not name:
        name = " ".join(p for p in (v.get("first_name", ""), v.get("last_name", "")) if p)
    if not name and email:
        name = _name_from_email(email)
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        d.warnings.append(f"{column('name')}: the name is longer than {MAX_NAME} characters and was shortened.")
        name = name[:MAX_NAME]
    d.client = Client(display_name=name, email=email, phone=phone)

    # Where (time zone)
    d.zone_name, d.zone = default_zone_name, default_zone
    if v.get("time_zone"):
        zone_name, zone = resolve_zone(v["time_zone"])
        if zone is None:
            d.errors.append(f"{column('time_zone')}: {show(v['time_zone'])} is not a time zone name — write one "
                            "like America/New_York or Europe/London (or leave it empty to use "
                            f"{default_zone_name}).")
        else:
            d.zone_name, d.zone = zone_name, zone

    # When
    _check_times(d, headers, column, month_first)

    # What and by whom
    d.subject = v.get("subject", "")
    if len(d.subject) > MAX_SUBJECT:
        d.warnings.append(f"{column('subject')}: the subject is longer than {MAX_SUBJECT} characters and was shortened.")
        d.subject = d.subject[:MAX_SUBJECT]
    d.organizer = organizer.strip()
    if v.get("organizer"):
        text = v["organizer"]
        if GUID.fullmatch(text):
            d.organizer = text
        else:
            address, problem = check_email(text)
            if problem:
                d.errors.append(f"{column('organizer')}: {show(text)} is not the organizer's sign-in address — "
                                "write their work email (like name@company.com) or their user id.")
            else:
                d.organizer = address
    if v.get("browser_join"):
        flag = parse_yes_no(v["browser_join"])
        if flag is None:
            d.errors.append(f"{column('browser_join')}: {show(v['browser_join'])} should be yes or no.")
        else:
            d.browser_join = flag
    if v.get("appointment_url"):
        url = v["appointment_url"]
        if not re.match(r"https?://[^\s/]+\.[^\s]*$|https?://localhost", url, re.I):
            d.errors.append(f"{column('appointment_url')}: {show(url)} is not a web address — write the full "
                            "link, starting with https://.")
        else:
            d.url = url
    d.group = v.get("appointment_id", "")


def _check_times(d: _Draft, headers: dict, column, month_first: bool) -> None:
    v = d.values
    start_text, date_text, time_text = v.get("start", ""), v.get("date", ""), v.get("time", "")
    end_text, duration_text = v.get("end", ""), v.get("duration", "")
    zone = d.zone
    if duration_text:
        try:
            minutes = parse_minutes(duration_text)
            if minutes <= 0:
                raise CellError("zero")
            if minutes > MAX_DURATION:
                d.errors.append(f"{column('duration')}: {show(duration_text)} minutes is longer than a day — write "
                                "the length in minutes, like 30.")
            else:
                d.minutes = minutes
        except CellError:
            d.errors.append(f"{column('duration')}: {show(duration_text)} is not a length in minutes — write a "
                            "whole number, like 30.")
    if not (start_text or date_text or time_text):
        if end_text:
            d.has_time = True
            d.errors.append(f"{column('end')}: this row has an end ({show(end_text)}) but no start — add the start "
                            "date and time.")
        return
    d.has_time = True
    if zone is None:
        return  # the time zone is already reported
    day = clock = offset = None
    source = "start"
    try:
        if start_text:
            day, clock, offset = parse_moment(start_text, month_first)
    except CellError:
        d.errors.append(f"{column('start')}: {show(start_text)} is not a date and time I can read — write it "
                        "like 2027-03-02 09:30.")
        return
    if date_text and day is None:
        source = "date"
        try:
            day, clock2, offset2 = parse_moment(date_text, month_first)
            clock, offset = clock or clock2, offset or offset2
        except CellError:
            d.errors.append(f"{column('date')}: {show(date_text)} is not a date I can read — write it like 2027-03-02.")
            return
    if time_text and (clock is None or not start_text):
        try:
            day2, clock2, offset2 = parse_moment(time_text, month_first)
        except CellError:
            d.errors.append(f"{column('time')}: {show(time_text)} is not a time I can read — write it like 09:30 "
                            "or 2:30 PM.")
            return
        if clock2 is None:
            d.errors.append(f"{column('time')}: {show(time_text)} is not a time I can read — write it like 09:30 "
                            "or 2:30 PM.")
            return
        clock, offset = clock2, offset2 or offset
        day = day or day2
    if day is None:
        where = column("date") if headers.get("date") else column("start")
        d.errors.append(f"{where}: this row has a time but no date — add the date, like 2027-03-02.")
        return
    if clock is None:
        where = column("time") if headers.get("time") else column(source)
        d.errors.append(f"{where}: this row has a date ({day.isoformat()}) but no time — add the start time, "
                        "like 09:30.")
        return
    naive = datetime.combine(day, clock)
    where = column("start") if start_text else (column("time") if time_text else column("date"))
    start = _localize(d, naive, offset, zone, where)
    if start is None:
        return
    d.start = start
    end = None
    if end_text:
        try:
            end_day, end_clock, end_offset = parse_moment(end_text, month_first)
            if end_clock is None:
                raise CellError("no time")
        except CellError:
            d.errors.append(f"{column('end')}: {show(end_text)} is not a time I can read — write it like 10:00 "
                            "or 2027-03-02 10:00.")
            return
        local_start = start.astimezone(zone)
        end_naive = datetime.combine(end_day or local_start.date(), end_clock)
        end = _localize(d, end_naive, end_offset, zone, column("end"))
        if end is None:
            return
        if as_utc(end) <= as_utc(start):
            d.errors.append(f"{column('end')}: the end ({wall_clock(end.astimezone(zone))}) is not after the start "
                            f"({wall_clock(local_start)}) — check the times.")
            return
        own = int((as_utc(end) - as_utc(start)).total_seconds() // 60)
        if d.minutes and d.minutes != own:
            d.warnings.append(f"{column('duration')} says {d.minutes} minutes but the end time makes it {own}; "
                              "the end time is used.")
        d.minutes = own
    d.end = end or (plus_minutes(start, d.minutes) if d.minutes else None)


def _localize(d: _Draft, naive: datetime, offset: timedelta | None, zone: ZoneInfo, where: str) -> datetime | None:
    """An aware time in ``zone``; DST gaps are errors, repeated hours warnings naming the choice."""
    if offset is not None:
        return naive.replace(tzinfo=timezone(offset)).astimezone(zone)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    off1, off2 = first.utcoffset(), second.utcoffset()
    if off1 == off2:
        return first
    if first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:
        # In a gap: clocks jump forward, the time never shows on a clock that day.
        d.errors.append(f"{where}: {wall_clock(naive)} does not exist in {zone.key} — the clocks jump forward an hour "
                        "that night. Choose a time outside that hour (for example an hour later).")
        return None
    d.warnings.append(f"{where}: {wall_clock(naive)} happens twice in {zone.key} (the clocks go back that night); "
                      f"the first one ({offset_text(first)}, before the change) is used. To use the second, write "
                      f"{naive:%Y-%m-%dT%H:%M}{offset_text(second)}.")
    return first


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = re.sub(r"[._\-\d]+", " ", local).split()
    return " ".join(w[:1].upper() + w[1:] for w in words)
