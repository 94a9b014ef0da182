"""Check every spreadsheet row and turn the good ones into appointments.

Each message says what is wrong, in which column, and what to write instead; the row number (as seen
in Excel) travels beside it in ``RowResult.row``, so messages do not repeat it. Nothing here guesses
silently: an ambiguous local time or date is a warning saying which reading was used, a nonexistent one
an error.

The check runs in stages, one function each: read every row (``_parse_row``), group rows sharing an
appointment id (``_group``), give slots to appointments without a time (``_assign_slots``), build each
appointment (``_build``), then find duplicates across the file (``_assemble``). ``SheetChecker`` keeps
the work of the first three per row and per appointment, so checking an edited copy of the same sheet
redoes only the edited row and its appointment group.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from lib.model.appointment import Appointment, Client, ModelError, derive_scheduled_id, ids_for
from lib.model.collector import collector_paused
from lib.model.timezones import WINDOWS_ZONES, is_nonexistent
from lib.spreadsheet import dates
from lib.spreadsheet.cells import (GUID, CellError, as_utc, check_email, check_phone, clean, col, offset_text,
                                   parse_minutes, parse_moment, parse_yes_no, plus_minutes, resolve_zone, show,
                                   wall_clock)
from lib.spreadsheet.columns import FIELD_BY_KEY, FIELD_KEYS, header_language, normalise
from lib.spreadsheet.read import Sheet
from lib.spreadsheet.schedule import Schedule

MAX_NAME = 256
MAX_SUBJECT = 255
MAX_DURATION = 24 * 60
DATE_FIELDS = ("start", "date", "end")
_GOOGLE_SEPARATOR = re.compile(r"\s*:::\s*")  # Google Contacts' way of putting several values in one cell
_LIST_SEPARATOR = re.compile(r"[;,]")
_MOBILE_LABELS = ("mobile", "cell", "portable", "handy", "mobil", "movil", "celular", "cellulare", "mobiel",
                  "telemovel", "gsm", "sms")


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
    date_columns: list[dates.DateColumn] = field(default_factory=list)

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
    def undecided_dates(self) -> list[dates.DateColumn]:
        """Date columns whose order the file does not prove: ask once per column, then check again with
        ``date_order={column.header: "DMY" or "MDY"}``."""
        return [c for c in self.date_columns if c.undecided]

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


def join_messages(messages: list[str]) -> str:
    """Messages as one text, each a sentence: no "….; Column" doubled punctuation."""
    parts = [m.strip() for m in messages if m and m.strip()]
    return " ".join(p if p[-1] in ".!?…)" else p + "." for p in parts)


# -- the checker -----------------------------------------------------------------------------------
@dataclass
class _Context:
    """What every row is checked against: the columns, the schedule, the date readings, the run's options."""

    headers: dict[str, str | None]
    sheet_headers: tuple[str, ...]
    columns: dict[str, int]
    phone_labels: tuple[tuple[int, int], ...]  # (label column, value column) pairs, Google-style
    schedule: Schedule
    zone_name: str
    zone: ZoneInfo
    region: str
    organizer: str
    sms: bool
    now: datetime
    readings: dict[str, dates.Reading]

    def column(self, key: str) -> str:
        return col(self.headers[key], FIELD_BY_KEY[key].label)


@dataclass(eq=False)
class _Draft:
    """One row as read; never changed after ``_parse_row`` so it can be reused for an unchanged row."""

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
    day: date | None = None  # a date without a time: the row gets a free slot that day
    subject: str = ""
    organizer: str = ""
    browser_join: bool | None = True
    url: str = ""
    group: str = ""
    alone: list = field(default_factory=list)  # [self]: the unit of a row without an appointment id, made once

    def __post_init__(self) -> None:
        self.alone.append(self)


@dataclass(eq=False)
class _Built:
    """One appointment from its rows and slot, before the file-wide duplicate check."""

    appointment: Appointment | None
    errors: dict[int, list[str]]  # draft index -> messages added by the group or slot
    warnings: dict[int, list[str]]
    scheduled: bool = False  # the time comes from a slot: the id is derived from who and which occurrence
    who: tuple[str, ...] = ()
    lead_row: int = 0


def utc_now() -> datetime:
    """The time a sheet is checked against when the caller gives none (tests set it for files of fixed dates)."""
    return datetime.now(timezone.utc)


class SheetChecker:
    """Checks sheets with one mapping, schedule and set of options; remembers the work per row.

    ``check(sheet)`` on an edited copy of the same sheet re-reads only the rows whose cells changed and
    rebuilds only their appointments; the file-wide steps (date order, slots, duplicates) are cheap passes.
    """

    def __init__(self, mapping: dict, schedule: Schedule, *, default_region: str | None = None, organizer: str = "",
                 now: datetime | None = None, date_order: str | dict | None = "auto", sms: bool = False):
        self.mapping = dict(mapping or {})
        self.schedule = schedule
        self.region = (default_region or "US").upper()  # phones without a country code
        self.region_given = bool(default_region)
        self.organizer = organizer
        self.now = as_utc(now or utc_now())
        self.whole_order, self.column_orders = dates.normal_choice(date_order)
        self.sms = sms
        zone_name, zone = resolve_zone(schedule.tz)
        if zone is None:
            raise ModelError("Time zone", f"'{schedule.tz}' is not a time zone; use a name such as America/New_York.")
        self.zone_name, self.zone = zone_name, zone
        self._signature: tuple | None = None
        self._drafts: list = []  # per row: (number, cells, draft)
        self._builts: dict[int, tuple] = {}  # first row's index -> (unit, slot, built)
        self._results: list = []  # per row: (draft, built, appointment, lead errors, RowResult)
        self._with_ids: dict[tuple, Appointment] = {}
        self._slots: list[tuple] = []  # (start, end, "", ""): the schedule's slots, made once
        self._ahead: tuple | None = None  # (sheet, context, date columns, last rows) of check_ahead

    def check(self, sheet: Sheet) -> CheckReport:
        """Check every row of ``sheet``; rows without times get slots."""
        with collector_paused():
            return self._check(sheet)

    def check_ahead(self, sheet: Sheet, rows: int) -> list[Appointment]:
        """The appointments of the first ``rows`` rows that nothing further down can change, checked now.

        So that they can be sent while the rest is checked: ``check(sheet)`` then reuses this work, and its
        appointments begin with these very objects. The part ends before the first appointment the rest of
        the file could still change: one whose appointment id comes again below (a row may join it), or a
        row with a date and no time (its free slot depends on the times of every row).
        """
        with collector_paused():
            if self._ahead is None or self._ahead[0] is not sheet:  # the file-wide passes, once for every call
                ctx, date_columns = self._context(sheet)
                self._ahead = (sheet, ctx, date_columns, _last_rows(sheet, ctx))
            _, ctx, _, last_rows = self._ahead
            self._keep_or_forget(sheet, ctx)
            drafts = self._parse_rows(sheet, ctx, limit=rows)
            units = []
            for unit in _group(drafts):
                if last_rows.get(unit[0].group, 0) >= len(drafts) or _slot_kind(unit) == "day":
                    break
                units.append(unit)
            slots = _assign_slots(units, ctx, self._schedule_slots)
            builts = self._build_units(units, slots, ctx)
            return self._assemble(units, builts, [d for unit in units for d in unit])[1]

    def _check(self, sheet: Sheet) -> CheckReport:
        ahead, self._ahead = self._ahead, None
        ctx, date_columns = ahead[1:3] if ahead is not None and ahead[0] is sheet else self._context(sheet)
        self._keep_or_forget(sheet, ctx)
        drafts = self._parse_rows(sheet, ctx)
        units = _group(drafts)
        slots = _assign_slots(units, ctx, self._schedule_slots)
        builts = self._build_units(units, slots, ctx)
        rows, appointments = self._assemble(units, builts, drafts)
        return CheckReport(rows=rows, appointments=appointments, date_columns=date_columns)

    # -- stages with memory ----------------------------------------------------------------------
    def _keep_or_forget(self, sheet: Sheet, ctx: _Context) -> None:
        signature = (tuple(sheet.headers), tuple(sorted(ctx.readings.items())))
        if signature != self._signature:  # another reading of the dates: every row reads differently
            self._signature, self._drafts, self._builts, self._with_ids = signature, [], {}, {}
            self._results = []

    def _parse_rows(self, sheet: Sheet, ctx: _Context, limit: int | None = None) -> list[_Draft]:
        """A draft per row (the first ``limit`` rows); a row whose number and cells are unchanged keeps its draft."""
        cache = self._drafts
        if len(cache) != len(sheet.rows):
            cache[:] = [None] * len(sheet.rows)
        drafts = []
        for index, (number, cells) in enumerate(zip(sheet.row_numbers[:limit], sheet.rows[:limit])):
            hit = cache[index]
            if hit is None or hit[0] != number or not (hit[1] is cells or hit[1] == cells):
                hit = cache[index] = (number, cells, _parse_row(ctx, index, number, cells))
            drafts.append(hit[2])
        return drafts

    def _build_units(self, units: list[list[_Draft]], slots: dict, ctx: _Context) -> list[_Built]:
        """An appointment per unit; a unit with the same drafts and slot keeps what was built."""
        cache, kept, builts = self._builts, {}, []
        for position, unit in enumerate(units):
            slot = slots.get(position)
            hit = cache.get(unit[0].index)
            if hit is None or hit[0] != unit or hit[1] != slot:  # drafts compare by identity
                hit = (unit, slot, _build(unit, slot, ctx))
            kept[unit[0].index] = hit
            builts.append(hit[2])
        self._builts = kept
        return builts

    def _schedule_slots(self, n: int) -> list[tuple]:
        """The schedule's first ``n`` slots as ``Slot`` tuples; the list only grows, the schedule never changes."""
        if n > len(self._slots):
            self._slots = [(start, end, "", "") for start, end in self.schedule.slots(n, now=self.now)]
        return self._slots[:n]

    def _assemble(self, units: list[list[_Draft]], builts: list[_Built],
                  drafts: list[_Draft]) -> tuple[list[RowResult], list[Appointment]]:
        """Scheduled ids and duplicates across the whole file, then one result per row in file order."""
        results: dict[int, RowResult] = {}
        appointments: list[Appointment] = []
        seen_ids: dict[str, int] = {}
        occurrences: Counter = Counter()
        kept_ids: dict[tuple, Appointment] = {}
        for unit, built in zip(units, builts):
            appointment, lead_errors = built.appointment, []
            if appointment is not None and built.scheduled:
                occurrences[built.who] += 1
                key = (built, occurrences[built.who])
                appointment = self._with_ids.get(key) or replace(
                    appointment, external_appointment_id=derive_scheduled_id(appointment.clients,
                                                                             occurrences[built.who])).with_ids()
                kept_ids[key] = appointment
            if appointment is not None:
                keys = (appointment.external_appointment_id, appointment.external_id)
                earlier = seen_ids.get(keys[0]) or seen_ids.get(keys[1])
                if earlier is not None:
                    lead_errors.append(_duplicate_message(earlier, appointment))
                    appointment = None
                else:
                    for k in keys:
                        seen_ids[k] = built.lead_row
                    appointments.append(appointment)
            lead = _lead(unit) if lead_errors else None
            for d in unit:
                results[d.index] = self._result(d, built, appointment, lead_errors if d is lead else [])
        self._with_ids = kept_ids
        return [results[d.index] for d in drafts], appointments

    def _result(self, d: _Draft, built: _Built, appointment: Appointment | None, lead_errors: list[str]) -> RowResult:
        """The row's result; the same object as last time when nothing it depends on changed (read-only)."""
        cache = self._results
        if len(cache) <= d.index:
            cache.extend([None] * (d.index + 1 - len(cache)))
        hit = cache[d.index]
        if hit is not None and hit[0] is d and hit[1] is built and hit[2] is appointment and hit[3] == lead_errors:
            return hit[4]
        errors = d.errors + built.errors.get(d.index, []) + lead_errors
        warnings = d.warnings + built.warnings.get(d.index, [])
        ok = not errors and appointment is not None
        result = RowResult(row=d.row, status="ok" if ok else "error", errors=errors, warnings=warnings,
                           appointment=appointment if ok else None, values=d.values, index=d.index)
        cache[d.index] = (d, built, appointment, lead_errors, result)
        return result

    # -- the file-wide context -------------------------------------------------------------------
    def _context(self, sheet: Sheet) -> tuple[_Context, list[dates.DateColumn]]:
        columns: dict[str, int] = {}
        headers: dict[str, str | None] = {}
        for key in FIELD_KEYS:
            header = self.mapping.get(key)
            if header and header in sheet.headers:
                columns[key] = sheet.headers.index(header)
                headers[key] = header
            else:
                headers[key] = None
        ctx = _Context(headers=headers, sheet_headers=tuple(sheet.headers), columns=columns,
                       phone_labels=_phone_labels(sheet, headers), schedule=self.schedule, zone_name=self.zone_name,
                       zone=self.zone, region=self.region, organizer=self.organizer, sms=self.sms, now=self.now,
                       readings={})
        ctx.readings, date_columns = self._read_dates(sheet, columns, headers)
        return ctx, date_columns

    def _read_dates(self, sheet: Sheet, columns: dict, headers: dict) -> tuple[dict, list[dates.DateColumn]]:
        """The reading of each date column; a column that proves nothing follows one that does."""
        evidence = self._evidence(sheet, columns)
        values = {key: [r[columns[key]] if columns[key] < len(r) else "" for r in sheet.rows]
                  for key in DATE_FIELDS if key in columns}  # read trimmed them; no need to clean
        readings = {key: dates.decide(v, evidence, self.column_orders.get(headers[key]) or self.whole_order)
                    for key, v in values.items()}
        proven = next((k for k, r in readings.items() if r.decided_by == "values"), None)
        for key, reading in readings.items():
            if proven and reading.decided_by == "evidence":  # the same file writes its dates one way
                order = readings[proven].order
                readings[key] = dates.Reading(order, "values", f'the dates in column "{headers[proven]}" are '
                                                               f"{dates.ORDER_WORDS[order]}")
        described = [dates.describe(key, headers[key], readings[key], v, sheet.row_numbers)
                     for key, v in values.items()]
        return readings, described

    def _evidence(self, sheet: Sheet, columns: dict[str, int]) -> tuple[str, str]:
        """(order, reason) from the file besides its dates: headings, delimiter, zones, region."""
        sample = sheet.rows[:200]
        decimal_commas = any(re.fullmatch(r"\d+,\d{1,2}", c or "") for r in sample for c in r)
        zones = []
        if "time_zone" in columns:
            j = columns["time_zone"]
            zones = [resolve_zone(r[j])[0] for r in sheet.rows[:2000] if j < len(r) and r[j].strip()]
        zones.append(self.zone_name)
        return dates.file_evidence(language=header_language(sheet.headers), delimiter=sheet.delimiter,
                                   decimal_commas=decimal_commas, zones=zones, region=self.region,
                                   region_given=self.region_given)


def check_sheet(sheet: Sheet, mapping: dict, schedule: Schedule, *, default_region: str | None = None,
                organizer: str = "", now: datetime | None = None, date_order: str | dict | None = "auto",
                sms: bool = False) -> CheckReport:
    """Check every row of ``sheet`` with ``mapping`` (field key -> header); rows without times get slots.

    ``date_order``: "auto" (decided per column, warned when the file does not prove it), "DMY", "MDY" or
    "YMD" for the whole file, or ``{header: order}`` per column. ``default_region`` (US when not given)
    reads phone numbers without a country code and, when given, dates the file does not prove. ``sms``: text messages are requested for
    this run, so a phone number that cannot be used is an error rather than a warning.
    """
    return SheetChecker(mapping, schedule, default_region=default_region, organizer=organizer, now=now,
                        date_order=date_order, sms=sms).check(sheet)


def _phone_labels(sheet: Sheet, headers: dict) -> tuple[tuple[int, int], ...]:
    """Google's "Phone 1 - Label" / "Phone 1 - Value" pairs, when the phone column is one of the values."""
    by_norm = {normalise(h): j for j, h in enumerate(sheet.headers)}
    pairs = []
    for n in range(1, 10):
        value = by_norm.get(f"phone{n}value")
        label = by_norm.get(f"phone{n}label", by_norm.get(f"phone{n}type"))
        if value is not None and label is not None:
            pairs.append((label, value))
    phone = headers.get("phone")
    if phone is None or sheet.headers.index(phone) not in {v for _, v in pairs}:
        return ()
    return tuple(pairs)


# -- stage 1: one row ------------------------------------------------------------------------------
def _parse_row(ctx: _Context, index: int, number: int, cells: list[str]) -> _Draft:
    values = {key: clean(cells[i]) if i < len(cells) else "" for key, i in ctx.columns.items()}
    d = _Draft(index=index, row=number, values=values)
    try:
        _read_client(d, ctx, cells)
        _read_zone(d, ctx)
        _read_times(d, ctx)
        _read_details(d, ctx)
    except Exception:  # a value nobody foresaw must not stop the other rows
        d.errors.append("This row could not be checked: one of its cells holds something unexpected. "
                        "Check the row's cells against the column headings.")
        d.has_time = True  # keep it out of the scheduler
    return d


def _split_values(text: str, kind: str) -> list[str]:
    """The values of a cell that holds several: Google's " ::: ", or a list with ; or , between them."""
    if ":::" not in text and ";" not in text and "," not in text:
        return [text]
    parts = [p.strip() for p in _GOOGLE_SEPARATOR.split(text) if p.strip()]
    out = []
    for part in parts:
        out.extend(_split_list(part, kind))
    return out


def _split_list(text: str, kind: str) -> list[str]:
    """"a@x.com; b@y.com" in two, but "Smith, Anna <anna@x.com>" and "+1 212 555 0142, ext. 12" whole."""
    pieces = [p.strip() for p in _LIST_SEPARATOR.split(text) if p.strip()]
    plausible = sum(1 for p in pieces if ("@" in p if kind == "email" else sum(ch.isdigit() for ch in p) >= 3))
    return pieces if plausible >= 2 else [text]


def _pick(text: str, kind: str, read) -> tuple[str, str, str, list[str]]:
    """(value used, its reading, problem, other values left out) for a cell with one or several values."""
    values = _split_values(text, kind)
    if len(values) <= 1:
        reading, problem = read(text)
        return text, reading, problem, []
    for i, value in enumerate(values):
        reading, problem = read(value)
        if not problem:
            return value, reading, "", values[:i] + values[i + 1:]
    reading, problem = read(values[0])
    return values[0], reading, problem, values[1:]


def _left_out(where: str, used: str, others: list[str], kind: str) -> str:
    listed = ", ".join(show(o) for o in others)
    what = "address" if kind == "email" else "number"
    return (f"{where}: the cell holds {len(others) + 1} values; {show(used)} is used and {listed} left out. "
            f"To invite another person too, add a row for them with the same Appointment ID.") \
        if kind == "email" else (f"{where}: the cell holds {len(others) + 1} phone numbers; {show(used)} is used "
                                 f"and {listed} left out (one {what} per client).")


def _read_client(d: _Draft, ctx: _Context, cells: list[str]) -> None:
    v = d.values
    email, phone = "", ""
    if v.get("email"):
        used, email, problem, others = _pick(v["email"], "email", check_email)
        if problem:
            d.errors.append(f"{ctx.column('email')}: {show(used)} {problem}")
        elif others:
            d.warnings.append(_left_out(ctx.column("email"), used, others, "email"))
    if v.get("phone"):
        phone = _read_phone(d, ctx, cells, has_email=bool(email))
    if not v.get("email") and not v.get("phone"):
        where = " or ".join(f'column "{ctx.headers[k]}"' for k in ("email", "phone") if ctx.headers[k])
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
        d.warnings.append(f"{ctx.column('name')}: the name is longer than {MAX_NAME} characters and was shortened.")
        name = name[:MAX_NAME]
    d.client = Client(display_name=name, email=email, phone=phone)


def _read_phone(d: _Draft, ctx: _Context, cells: list[str], has_email: bool) -> str:
    """The E.164 number to use, "" when there is none; an unusable one is an error only when it matters."""
    text, where = d.values["phone"], ctx.column("phone")
    region = ctx.region
    mobile = _labelled_mobile(ctx, cells, region)
    if mobile is not None:
        header, value, number, label = mobile
        others = [o for o in _split_values(text, "phone") if o != value]
        if header != ctx.headers["phone"]:
            d.warnings.append(f"{where}: {show(text)} is not labelled as a mobile number; the number labelled "
                              f"{show(label)} in column \"{header}\", {show(value)}, is used.")
        elif others:
            listed = ", ".join(show(o) for o in others)
            d.warnings.append(f"{where}: the cell holds {len(others) + 1} phone numbers; the one labelled "
                              f"{show(label)}, {show(value)}, is used and {listed} left out.")
        return number
    used, number, problem, others = _pick(text, "phone", lambda t: check_phone(t, region))
    if not problem:
        if others:
            d.warnings.append(_left_out(where, used, others, "phone"))
        return number
    if has_email and not ctx.sms:
        d.warnings.append(f"{where}: {show(used)} {problem} The number was left out: the appointment is made "
                          "and reaches the client by email. Text messages (SMS) would need a valid mobile "
                          "number, like +1 212 555 0142.")
    elif ctx.sms:
        d.errors.append(f"{where}: {show(used)} {problem} Text messages (SMS) are requested for this run and "
                        "need a valid mobile number.")
    else:
        d.errors.append(f"{where}: {show(used)} {problem} It is the only way to reach this client: correct it "
                        "or add their email address.")
    return ""


def _labelled_mobile(ctx: _Context, cells: list[str], region: str) -> tuple[str, str, str, str] | None:
    """(column, value, E.164, label) of the first usable number labelled mobile in Google-style label columns."""
    for label_col, value_col in ctx.phone_labels:
        if value_col >= len(cells) or label_col >= len(cells):
            continue
        labels = _GOOGLE_SEPARATOR.split(clean(cells[label_col]))
        values = _GOOGLE_SEPARATOR.split(clean(cells[value_col]))
        for label, value in zip(labels, values):
            if value and any(word in normalise(label) for word in _MOBILE_LABELS):
                number, problem = check_phone(value, region)
                if not problem:
                    return ctx.sheet_headers[value_col], value, number, label.lstrip("* ")
    return None


def _read_zone(d: _Draft, ctx: _Context) -> None:
    d.zone_name, d.zone = ctx.zone_name, ctx.zone
    text = d.values.get("time_zone")
    if text:
        zone_name, zone = resolve_zone(text)
        if zone is None:
            d.errors.append(f"{ctx.column('time_zone')}: {show(text)} is not a time zone name — write one "
                            "like America/New_York or Europe/London (or leave it empty to use "
                            f"{ctx.zone_name}).")
        else:
            d.zone_name, d.zone = zone_name, zone
    if ctx.sms and d.zone is not None and d.zone_name not in WINDOWS_ZONES:
        d.errors.append(f"{ctx.column('time_zone')}: {d.zone_name} has no Windows time zone name, which text "
                        "messages (SMS) need — use the city zone it belongs to, such as Europe/Oslo.")


def _read_details(d: _Draft, ctx: _Context) -> None:
    """Subject, organizer, browser join, link and appointment id."""
    v = d.values
    d.subject = v.get("subject", "")
    if len(d.subject) > MAX_SUBJECT:
        d.warnings.append(f"{ctx.column('subject')}: the subject is longer than {MAX_SUBJECT} characters and "
                          "was shortened.")
        d.subject = d.subject[:MAX_SUBJECT]
    d.organizer = ctx.organizer.strip()
    if v.get("organizer"):
        text = v["organizer"]
        if GUID.fullmatch(text):
            d.organizer = text
        else:
            address, problem = check_email(text)
            if problem:
                d.errors.append(f"{ctx.column('organizer')}: {show(text)} is not the organizer's sign-in address "
                                "— write their work email (like name@company.com) or their user id.")
            else:
                d.organizer = address
    if v.get("browser_join"):
        flag = parse_yes_no(v["browser_join"])
        if flag is None:
            d.errors.append(f"{ctx.column('browser_join')}: {show(v['browser_join'])} should be yes or no.")
        else:
            d.browser_join = flag
    if v.get("appointment_url"):
        url = v["appointment_url"]
        if not re.match(r"https?://[^\s/]+\.[^\s]*$|https?://localhost", url, re.I):
            d.errors.append(f"{ctx.column('appointment_url')}: {show(url)} is not a web address — write the full "
                            "link, starting with https://.")
        else:
            d.url = url
    d.group = v.get("appointment_id", "")


# -- stage 1, the times ----------------------------------------------------------------------------
def _read_times(d: _Draft, ctx: _Context) -> None:
    v = d.values
    _read_length(d, ctx)
    if not (v.get("start") or v.get("date") or v.get("time")):
        if v.get("end"):
            d.has_time = True
            d.errors.append(f"{ctx.column('end')}: this row has an end ({show(v['end'])}) but no start — add "
                            "the start date and time.")
        return
    d.has_time = True
    if d.zone is None or not _date_notes(d, ctx):
        return  # the time zone or the date order is already reported
    found = _read_start(d, ctx)
    if found is None:
        return
    day, clock, offset, where = found
    if clock is None:
        d.has_time, d.day = False, day  # a date alone: the row gets a free slot that day
        return
    start = _localize(d, datetime.combine(day, clock), offset, d.zone, where)
    if start is None:
        return
    d.start = start
    end = _read_end(d, ctx, start) if v.get("end") else None
    if d.errors:
        return
    d.end = end or (plus_minutes(start, d.minutes) if d.minutes else None)


def _date_notes(d: _Draft, ctx: _Context) -> bool:
    """Warnings for dates that read both ways, errors for dates against their column's order; False on error."""
    for key in DATE_FIELDS:
        text = d.values.get(key)
        if text and key in ctx.readings:
            error, warning = dates.row_notes(text, ctx.readings[key], ctx.column(key))
            if error:
                d.errors.append(error)
                return False
            if warning:
                d.warnings.append(warning)
    return True


def _read_length(d: _Draft, ctx: _Context) -> None:
    text = d.values.get("duration", "")
    if not text:
        return
    try:
        minutes = parse_minutes(text)
        if minutes <= 0:
            raise CellError("zero")
    except CellError:
        d.errors.append(f"{ctx.column('duration')}: {show(text)} is not a length in minutes — write a whole "
                        "number, like 30.")
        return
    if minutes > MAX_DURATION:
        d.errors.append(f"{ctx.column('duration')}: {show(text)} minutes is longer than a day — write the length "
                        "in minutes, like 30.")
    else:
        d.minutes = minutes


def _order(ctx: _Context, key: str) -> str:
    reading = ctx.readings.get(key)
    return reading.order if reading else "MDY"


def _read_start(d: _Draft, ctx: _Context) -> tuple[date, time | None, timedelta | None, str] | None:
    """(day, clock or None, offset, column) from the start, date and time cells; None after an error."""
    v = d.values
    start_text, date_text, time_text = v.get("start", ""), v.get("date", ""), v.get("time", "")
    day = clock = offset = None
    source = "start"
    try:
        if start_text:
            day, clock, offset = parse_moment(start_text, _order(ctx, "start"))
    except CellError:
        d.errors.append(f"{ctx.column('start')}: {show(start_text)} is not a date and time I can read — write it "
                        "like 2027-03-02 09:30.")
        return None
    if date_text and day is None:
        source = "date"
        try:
            day, clock2, offset2 = parse_moment(date_text, _order(ctx, "date"))
            clock, offset = clock or clock2, offset or offset2
        except CellError:
            d.errors.append(f"{ctx.column('date')}: {show(date_text)} is not a date I can read — write it like "
                            "2027-03-02.")
            return None
    if time_text and (clock is None or not start_text):
        try:
            day2, clock2, offset2 = parse_moment(time_text, _order(ctx, "date"))
            if clock2 is None:
                raise CellError("no time")
        except CellError:
            d.errors.append(f"{ctx.column('time')}: {show(time_text)} is not a time I can read — write it like "
                            "09:30 or 2:30 PM.")
            return None
        clock, offset = clock2, offset2 or offset
        day = day or day2
    if day is None:
        where = ctx.column("date") if ctx.headers.get("date") else ctx.column("start")
        d.errors.append(f"{where}: this row has a time but no date — add the date, like 2027-03-02.")
        return None
    where = ctx.column("start") if start_text else (ctx.column("time") if time_text else ctx.column(source))
    return day, clock, offset, where


def _read_end(d: _Draft, ctx: _Context, start: datetime) -> datetime | None:
    text = d.values["end"]
    try:
        end_day, end_clock, end_offset = parse_moment(text, _order(ctx, "end"))
        if end_clock is None:
            raise CellError("no time")
    except CellError:
        d.errors.append(f"{ctx.column('end')}: {show(text)} is not a time I can read — write it like 10:00 or "
                        "2027-03-02 10:00.")
        return None
    local_start = start.astimezone(d.zone)
    end = _localize(d, datetime.combine(end_day or local_start.date(), end_clock), end_offset, d.zone,
                    ctx.column("end"))
    if end is None:
        return None
    if as_utc(end) <= as_utc(start):
        d.errors.append(f"{ctx.column('end')}: the end ({wall_clock(end.astimezone(d.zone))}) is not after the "
                        f"start ({wall_clock(local_start)}) — check the times.")
        return None
    own = int((as_utc(end) - as_utc(start)).total_seconds() // 60)
    if d.minutes and d.minutes != own:
        d.warnings.append(f"{ctx.column('duration')} says {d.minutes} minutes but the end time makes it {own}; "
                          "the end time is used.")
    d.minutes = own
    return end


def _localize(d: _Draft, naive: datetime, offset: timedelta | None, zone: ZoneInfo, where: str) -> datetime | None:
    """An aware time in ``zone``; DST gaps are errors, repeated hours warnings naming the choice."""
    if offset is not None:
        return naive.replace(tzinfo=timezone(offset)).astimezone(zone)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if is_nonexistent(first):  # clocks jump forward: the time never shows on a clock that day
        d.errors.append(f"{where}: {wall_clock(naive)} does not exist in {zone.key} — the clocks jump forward an "
                        "hour that night. Choose a time outside that hour (for example an hour later).")
        return None
    d.warnings.append(f"{where}: {wall_clock(naive)} happens twice in {zone.key} (the clocks go back that night); "
                      f"the first one ({offset_text(first)}, before the change) is used. To use the second, write "
                      f"{naive:%Y-%m-%dT%H:%M}{offset_text(second)}.")
    return first


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = re.sub(r"[._\-\d]+", " ", local).split()
    return " ".join(w[:1].upper() + w[1:] for w in words)


# -- stage 2: appointments of several rows ---------------------------------------------------------
def _group(drafts: list[_Draft]) -> list[list[_Draft]]:
    """Rows sharing an appointment id are one appointment (in the order of their first row)."""
    sizes = Counter(d.group for d in drafts)
    groups: dict[str, list[_Draft]] = {}
    units: list[list[_Draft]] = []
    for d in drafts:
        if d.group and sizes[d.group] > 1:  # a row alone keeps its one list: fewer objects per re-check
            members = groups.get(d.group)
            if members is None:
                members = groups[d.group] = []
                units.append(members)
            members.append(d)
        else:
            units.append(d.alone)
    return units


def _last_rows(sheet: Sheet, ctx: _Context) -> dict[str, int]:
    """Each appointment id (as ``_parse_row`` reads it; no other cell is read) -> the index of its last row."""
    j = ctx.columns.get("appointment_id")
    if j is None:
        return {}
    last = {clean(cells[j]): index for index, cells in enumerate(sheet.rows) if j < len(cells)}
    last.pop("", None)
    return last


def _slot_kind(unit: list[_Draft]) -> str:
    """"" (the unit gives its own time), "day" (a date alone: a free slot that day) or "schedule"."""
    if any(d.has_time for d in unit):
        return ""
    return "day" if any(d.day is not None for d in unit) else "schedule"


def _lead(unit: list[_Draft]) -> _Draft:
    """The row whose time the appointment takes: the first that gives one (else the first with a date)."""
    if len(unit) == 1:
        return unit[0]
    return (next((d for d in unit if d.has_time), None) or next((d for d in unit if d.day), None) or unit[0])


# -- stage 3: slots --------------------------------------------------------------------------------
Slot = tuple  # (start, end, note, problem): aware datetimes, a warning for the row, or an error instead


def _assign_slots(units: list[list[_Draft]], ctx: _Context, schedule_slots) -> dict[int, Slot]:
    """Unit position -> slot, for appointments without a time: from the schedule, or on their date.

    Schedule slots go in file order (rows with errors keep theirs, so fixing a row moves nothing);
    a row with a date but no time gets the first free slot that day within working hours.
    """
    needing, dated = [], []
    for i, u in enumerate(units):
        kind = _slot_kind(u)
        if kind:
            (dated if kind == "day" else needing).append(i)
    slots: dict[int, Slot] = {}
    for position, slot in zip(needing, schedule_slots(len(needing)) if needing else ()):
        slots[position] = slot
    if dated:
        busy = _busy_times(units, ctx)
        for position in dated:
            slots[position] = _slot_on_day(_lead(units[position]), busy, ctx)
    return slots


def _busy_times(units: list[list[_Draft]], ctx: _Context) -> list[tuple[datetime, datetime]]:
    """The UTC times taken by rows that give their own time."""
    busy = []
    for unit in units:
        lead = _lead(unit)
        if lead.has_time and lead.start is not None:
            end = lead.end or plus_minutes(lead.start, lead.minutes or ctx.schedule.duration)
            busy.append((as_utc(lead.start), as_utc(end)))
    return busy


def _slot_on_day(d: _Draft, busy: list, ctx: _Context) -> Slot:
    schedule, zone = ctx.schedule, d.zone or ctx.zone
    length = timedelta(minutes=d.minutes or schedule.duration)
    first = schedule.hours[0] if schedule.hours else (schedule.start.time() if schedule.start else time(9, 0))
    last = schedule.hours[1] if schedule.hours else time(23, 59)
    where = ctx.column("date") if ctx.headers.get("date") else ctx.column("start")
    wall = datetime.combine(d.day, first)
    for _ in range(24 * 60):
        start = wall.replace(tzinfo=zone)
        if is_nonexistent(start):
            wall += timedelta(minutes=15)
            continue
        begin = as_utc(start)
        end = begin + length
        clash = next((b for b in busy if b[0] < end and begin < b[1]), None)
        if clash is None:
            break
        wall = clash[1].astimezone(zone).replace(tzinfo=None) + timedelta(minutes=schedule.gap)
    local_end = (as_utc(wall.replace(tzinfo=zone)) + length).astimezone(zone)
    hours = f" within working hours {first:%H:%M}–{last:%H:%M}" if schedule.hours else ""
    if wall.date() != d.day or local_end.replace(tzinfo=None) > datetime.combine(d.day, last):
        return (None, None, "", f"{where}: this row has a date ({d.day.isoformat()}) but no time, and no free "
                                f"{length.seconds // 60}-minute slot is left that day{hours} — add the start "
                                "time, like 09:30.")
    start = wall.replace(tzinfo=zone)
    busy.append((as_utc(start), as_utc(local_end)))
    return (start, local_end, f"{where}: this row has a date but no time, so it gets the first free slot that "
                              f"day{hours}: {start:%H:%M}–{local_end:%H:%M}. Add a time to choose another.", "")


# -- stage 4: one appointment ----------------------------------------------------------------------
def _build(unit: list[_Draft], slot: Slot | None, ctx: _Context) -> _Built:
    """The appointment of one unit (a row, or the rows of one appointment id) and the messages it adds."""
    head, lead = unit[0], _lead(unit)  # subject, organizer and settings come from the group's first row
    built = _Built(appointment=None, errors={}, warnings={}, lead_row=lead.row)
    start, end = _unit_times(unit, lead, slot, ctx, built)
    if len(unit) > 1:
        _check_group(unit, lead, head, start, end, built)
    failing = [d for d in unit if d.errors or built.errors.get(d.index)]
    if failing:
        rows = ", ".join(str(f.row) for f in failing)
        for d in unit:
            if d not in failing:
                built.errors.setdefault(d.index, []).append(
                    f"This row is part of appointment {show(d.group)} with row {rows}, which needs fixing first; "
                    "the appointment is created once all its rows are correct.")
        return built
    if start is None or end is None:  # a row with a time that failed already has an error
        return built
    clients, seen = [], set()
    for d in unit:
        if d.client.key in seen:
            built.warnings.setdefault(d.index, []).append(f"This client is already in this appointment (row "
                                                          f"{unit[0].row}); they are invited once.")
            continue
        seen.add(d.client.key)
        clients.append(d.client)
    start_utc = as_utc(start)
    if start_utc >= as_utc(end):
        built.errors.setdefault(lead.index, []).append(
            f"{_time_column(ctx.headers)}: the end ({wall_clock(end)}) is not after the start ({wall_clock(start)}) "
            "— check the times.")
        return built
    if start_utc < ctx.now:
        built.warnings.setdefault(lead.index, []).append(
            f"The appointment time {wall_clock(start)} ({head.zone_name}) is in the past.")
    built.scheduled = slot is not None and not head.group
    built.who = tuple(sorted(c.key for c in clients))
    start, clients = start.astimezone(head.zone), tuple(clients)
    # the ids as they will be sent (what with_ids would write, without building the appointment twice)
    ids = {"external_appointment_id": head.group} if built.scheduled else ids_for(start, clients, head.group)
    built.appointment = Appointment(
        subject=head.subject or ctx.schedule.subject, start=start, end=end.astimezone(head.zone),
        time_zone=head.zone_name, organizer=head.organizer, clients=clients, allow_browser_join=head.browser_join,
        external_appointment_url=head.url, source_rows=tuple(d.row for d in unit), **ids)
    return built


def _unit_times(unit: list[_Draft], lead: _Draft, slot: Slot | None, ctx: _Context, built: _Built):
    """(start, end) of a unit: its slot (with the slot's note or problem), or its lead row's own time."""
    head = unit[0]
    if slot is None:
        start, end = lead.start, lead.end
        if start is not None and end is None:
            end = plus_minutes(start, lead.minutes or ctx.schedule.duration)
        return start, end
    slot_start, slot_end, note, problem = slot
    if problem:
        built.errors.setdefault(lead.index, []).append(problem)
        return None, None
    if note:
        built.warnings.setdefault(lead.index, []).append(note)
    zone = head.zone or ctx.zone
    start = slot_start.astimezone(zone)
    end = plus_minutes(start, head.minutes) if head.minutes and not note else slot_end.astimezone(zone)
    return start, end


def _time_column(headers: dict) -> str:
    for key in ("end", "duration", "start", "time"):
        if headers.get(key):
            return col(headers[key], "")
    return "Times"


def _check_group(unit: list[_Draft], lead: _Draft, head: _Draft, start, end, built: _Built) -> None:
    for d in unit:
        if d is lead:
            continue
        differs = (start is not None and end is not None and d.has_time and not d.errors and d.start is not None
                   and (as_utc(d.start) != as_utc(start) or (d.end is not None and as_utc(d.end) != as_utc(end))))
        if differs:
            built.warnings.setdefault(d.index, []).append(
                f"This row shares the appointment {show(d.group)} with row {lead.row} but has a different time "
                f"({wall_clock(d.start)}); the time of row {lead.row} ({wall_clock(start) if start else '?'}) "
                "is used for everyone.")
        if d is not head and d.organizer and head.organizer and d.organizer.lower() != head.organizer.lower():
            built.warnings.setdefault(d.index, []).append(
                f"This row shares the appointment {show(d.group)} with row {head.row} but names another "
                f"organizer ({d.organizer}); the organizer of row {head.row} is used.")


def _duplicate_message(earlier: int, appointment: Appointment) -> str:
    clients = appointment.clients
    who = (clients[0].email or clients[0].phone or clients[0].label) if clients else ""
    return (f"This row repeats row {earlier}: the same client ({who}) at the same time "
            f"({wall_clock(appointment.start)}). Delete one of the two rows, or give them different times.")
