"""Day first or month first: decided once per column from all its values, never silently.

A first part over 12 proves day first (25/03/2027), a second part over 12 proves month first
(03/25/2027); dotted dates (03.12.2027) are day first by convention; ISO and month names need no
decision. When a column proves nothing, the file's other evidence decides (the language of its
headings, ``;`` between cells, its time zones, the default region) and every row whose date could be
read the other way gets a warning naming both readings. Values that break the column's order are errors.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

ORDERS = ("DMY", "MDY", "YMD")
ORDER_WORDS = {"DMY": "day first", "MDY": "month first", "YMD": "year first"}
MONTH_FIRST_REGIONS = {"US", "PR", "GU", "VI", "AS", "MP", "UM", "PH", "FM", "MH", "PW", "BZ"}
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")

# dd/mm/yyyy, mm-dd-yy, dd.mm.yyyy: two short numbers and a year, one separator.
_NUMERIC = re.compile(r"(?<![\d:])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d:])")
_LANGUAGES = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "nl": "Dutch", "pt": "Portuguese"}
# US zones (and the few other month-first places) by their IANA prefix or name.
_MONTH_FIRST_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
                      "America/Phoenix", "America/Anchorage", "America/Detroit", "America/Boise",
                      "America/Juneau", "America/Adak", "America/Nome", "America/Sitka", "America/Yakutat",
                      "America/Metlakatla", "America/Menominee", "America/Puerto_Rico", "Pacific/Honolulu",
                      "Pacific/Guam", "Asia/Manila", "US/")
_DAY_FIRST_PREFIXES = ("Europe/", "Africa/", "Australia/", "Atlantic/", "Indian/", "America/Argentina/",
                       "America/Sao_Paulo", "America/Bogota", "America/Lima", "America/Santiago",
                       "America/Montevideo", "America/Caracas", "America/Mexico_City", "Asia/Kolkata",
                       "Asia/Calcutta", "Asia/Jerusalem", "Asia/Dubai", "Asia/Singapore", "Pacific/Auckland")


@dataclass(frozen=True)
class Numeric:
    """The digits of a dd/mm/yyyy-like date in a cell."""

    text: str
    first: int
    second: int
    year: int
    dotted: bool

    def reading(self, order: str) -> date | None:
        """The date under ``order``, or None when these digits are no date in that order."""
        try:
            if order == "DMY":
                return date(self.year, self.second, self.first)
            if order == "MDY":
                return date(self.year, self.first, self.second)
        except ValueError:
            return None
        return None

    @property
    def proves(self) -> str | None:
        """"DMY" or "MDY" when only one order gives a real date, None when both or neither do."""
        day_first, month_first = self.reading("DMY"), self.reading("MDY")
        if day_first and not month_first:
            return "DMY"
        if month_first and not day_first:
            return "MDY"
        return None

    @property
    def ambiguous(self) -> bool:
        """Both orders give a date, and not the same one."""
        return self.first != self.second and self.proves is None and self.reading("DMY") is not None


@lru_cache(maxsize=65536)
def numeric_date(text: str) -> Numeric | None:
    """The dd/mm/yyyy-like part of a cell, or None (ISO, month names, no date)."""
    if re.match(r"\s*\d{4}[-/.]", text):
        return None  # year first: ISO or 2027/03/04, never ambiguous
    m = _NUMERIC.search(text)
    if not m:
        return None
    year = int(m.group(4))
    return Numeric(text=m.group(0), first=int(m.group(1)), second=int(m.group(3)),
                   year=2000 + year if year < 100 else year, dotted=m.group(2) == ".")


def spoken(day: date, order: str) -> str:
    """3 April 2027 (day first) or March 4, 2027 (month first): how a person of that habit says it."""
    month = MONTH_NAMES[day.month - 1]
    return f"{month} {day.day}, {day.year}" if order == "MDY" else f"{day.day} {month} {day.year}"


@dataclass(frozen=True)
class Reading:
    """How one column's dates are read: the order, why, and whether undecided rows are warned."""

    order: str
    decided_by: str  # "choice" | "values" | "dots" | "evidence"
    reason: str  # plain words: "the headings are in French"

    @property
    def warns(self) -> bool:
        return self.decided_by in ("evidence", "dots")


@dataclass(frozen=True)
class DateColumn:
    """What the check report says about one date column, for the app's question and the CLI."""

    field: str
    header: str
    order: str
    decided_by: str
    reason: str
    example: str = ""  # a value that reads both ways ("" when every value is clear)
    example_row: int = 0
    ambiguous_rows: int = 0
    contradicting_rows: int = 0

    @property
    def undecided(self) -> bool:
        """True when the file does not prove the order and some value reads both ways: ask the user."""
        return self.decided_by in ("evidence", "dots") and self.ambiguous_rows > 0

    @property
    def order_words(self) -> str:
        """"day first", "month first" or "year first"."""
        return ORDER_WORDS[self.order]

    @property
    def readings(self) -> dict[str, str]:
        """{"DMY": "3 April 2027", "MDY": "March 4, 2027"} for the example value."""
        found = numeric_date(self.example) if self.example else None
        if found is None:
            return {}
        return {order: spoken(found.reading(order), order) for order in ("DMY", "MDY") if found.reading(order)}

    @property
    def question(self) -> str:
        """'Does 03/04/2027 mean 3 April 2027 or March 4, 2027?' — empty when there is nothing to ask."""
        found = numeric_date(self.example) if self.example else None
        if not self.undecided or found is None:
            return ""
        r = self.readings
        return (f'Column "{self.header}": does {found.text} mean {r["DMY"]} (day first) '
                f'or {r["MDY"]} (month first)?')


def row_notes(value: str, reading: Reading, where: str) -> tuple[str, str]:
    """(error, warning) for one cell under its column's reading; each may be ""."""
    found = numeric_date(value) if value else None
    if found is None or reading.order == "YMD":
        return "", ""
    if found.reading(reading.order) is None:
        other = found.proves
        if other:
            return (f"{where}: {found.text} can only be {ORDER_WORDS[other]} "
                    f"({spoken(found.reading(other), other)}), but this column is read "
                    f"{ORDER_WORDS[reading.order]} ({reading.reason}). Check this date, or choose the date "
                    f"order for this column."), ""
        return "", ""  # no date in either order: the cell reader says so
    if not found.ambiguous or not reading.warns or (reading.decided_by == "dots" and found.dotted):
        return "", ""
    other = "MDY" if reading.order == "DMY" else "DMY"
    used, alternative = found.reading(reading.order), found.reading(other)
    return "", (f"{where}: {found.text} was read as {spoken(used, reading.order)} ({ORDER_WORDS[reading.order]}, "
                f"because {reading.reason}); it could also be {spoken(alternative, other)} "
                f"({ORDER_WORDS[other]}). If that is wrong, choose the date order for this column "
                f"(command line: --date-order {other}).")


def decide(values: list[str], evidence: tuple[str, str], choice: str | None = None) -> Reading:
    """The reading for a column from all its values; ``evidence`` is (order, reason) from the rest of the file."""
    if choice in ORDERS:
        return Reading(choice, "choice", "you chose that order")
    proofs: Counter = Counter()
    dotted = plain = 0
    for value in values:
        found = numeric_date(value) if value else None
        if found is None:
            continue
        if found.proves and not (found.dotted and found.proves == "MDY"):  # 03.14.2027 breaks the convention
            proofs[found.proves] += 1
        elif found.dotted:
            dotted += 1
        else:
            plain += 1
    if proofs:
        day_first, month_first = proofs["DMY"], proofs["MDY"]
        if day_first != month_first:
            order = "DMY" if day_first > month_first else "MDY"
            example = "a day over 12 comes first" if order == "DMY" else "a day over 12 comes second"
            return Reading(order, "values", f"in other rows of this column {example}")
        return Reading(evidence[0], "evidence", evidence[1])
    if dotted:
        return Reading("DMY", "dots", "dates written with dots (03.12.2027) are day first")
    return Reading(evidence[0], "evidence", evidence[1])


def file_evidence(*, language: str | None, delimiter: str | None, decimal_commas: bool, zones: list[str],
                  region: str, region_given: bool = False) -> tuple[str, str]:
    """(order, reason) from what the file shows besides its dates: headings, delimiter, zones, region.

    A region the caller gives explicitly comes before the zones; the default one (US) only after them.
    """
    region = (region or "US").upper()
    by_region = ("MDY" if region in MONTH_FIRST_REGIONS else "DMY", f"the region is {region}")
    if language in _LANGUAGES:
        return "DMY", f"the headings are in {_LANGUAGES[language]}"
    if delimiter == ";":
        extra = " and decimal commas" if decimal_commas else ""
        return "DMY", f"the file uses ; between cells{extra}, as Excel does in most of Europe"
    if region_given:
        return by_region
    for zone in Counter(z for z in zones if z).most_common():
        name = zone[0]
        if name.startswith(_MONTH_FIRST_ZONES):
            return "MDY", f"the time zone {name} is in the United States"
        if name.startswith(_DAY_FIRST_PREFIXES):
            return "DMY", f"the time zone {name} is in a region that writes the day first"
    return by_region


def describe(field: str, header: str, reading: Reading, values: list[str], rows: list[int]) -> DateColumn:
    """The report's summary of a column: its order, an example that reads both ways, how many rows do."""
    example, example_row, ambiguous, contradicting = "", 0, 0, 0
    for value, row in zip(values, rows):
        found = numeric_date(value) if value else None
        if found is None:
            continue
        if reading.order != "YMD" and found.reading(reading.order) is None and found.proves:
            contradicting += 1
        elif found.ambiguous and reading.warns and not (reading.decided_by == "dots" and found.dotted):
            ambiguous += 1
            if not example:
                example, example_row = value, row
    return DateColumn(field=field, header=header, order=reading.order, decided_by=reading.decided_by,
                      reason=reading.reason, example=example, example_row=example_row,
                      ambiguous_rows=ambiguous, contradicting_rows=contradicting)


def normal_choice(choice: str | dict | None) -> tuple[str | None, dict[str, str]]:
    """(whole-file order or None, {header: order}) from ``"auto"``, ``"DMY"`` or ``{"Date": "DMY"}``."""
    if isinstance(choice, dict):
        per_column = {str(k): str(v).upper() for k, v in choice.items() if str(v).upper() in ORDERS}
        return None, per_column
    text = str(choice or "auto").upper()
    if text == "AUTO":
        return None, {}
    if text not in ORDERS:
        raise ValueError(f"date order {choice!r} is not one of auto, DMY, MDY, YMD")
    return text, {}
