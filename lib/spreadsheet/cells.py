"""Reading one cell: emails, phone numbers, time zones, dates, times, durations and yes/no.

Each checker returns the clean value or raises/returns a message that says what is wrong with the
cell and what to write instead; ``check`` adds the row and column.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from lib.model.timezones import IANA_FOR_WINDOWS

MAX_SHOWN = 60  # characters of a cell quoted in a message


# -- cell helpers ----------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


def clean(text: str) -> str:
    """A cell without control characters (line breaks become spaces), trimmed."""
    if not text:
        return ""
    if not text.isprintable() and _CONTROL.search(text):  # every character _CONTROL finds is unprintable
        text = " ".join(_CONTROL.sub(" ", text).split())
    return text.strip()


def show(value: str) -> str:
    """A cell value quoted for a message, cut short when long."""
    value = value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN - 1] + "…"
    return f'"{value}"'


def col(header: str | None, fallback: str) -> str:
    return f'Column "{header}"' if header else fallback


# -- emails ----------------------------------------------------------------------------------------
_ANGLE = re.compile(r"<([^<>]+@[^<>]+)>")


@lru_cache(maxsize=65536)
def check_email(text: str) -> tuple[str, str]:
    """(normalised address, "") or ("", the problem in plain words, ending with the fix)."""
    value = text.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:].strip()
    angle = _ANGLE.search(value)
    if angle:  # "Anna Smith <anna@example.com>"
        value = angle.group(1).strip()
    example = "write it like name@example.com."
    if value[:1] in "=+-@" and "(" in value:
        return "", "looks like a spreadsheet formula, not an email address — type the address itself, like name@example.com."
    if "@" not in value:
        return "", f"is missing the @ — {example}"
    if any(sep in value for sep in (",", ";")) or value.count("@") > 1 and " " in value:
        return "", ("holds more than one address — keep one per row (add a row for the other person; give both "
                    "rows the same Appointment ID to book them together).")
    if value.count("@") > 1:
        return "", f"has more than one @ — {example}"
    if " " in value:
        return "", f"contains a space — remove it; {example}"
    local, _, domain = value.rpartition("@")
    if not local:
        return "", f"has nothing before the @ — {example}"
    if not domain:
        return "", f"is missing the part after the @ (like example.com) — {example}"
    if "." not in domain:
        return "", f"has an incomplete part after the @ ({show(domain)} needs a dot, like example.com) — {example}"
    if len(local) <= 64 and _DOT_ATOM.match(local):
        # Fast path for the common plain address: the domain is checked by email-validator once per
        # domain, and a plain dot-atom local part is exactly what it would accept unchanged.
        normal_domain = _checked_domain(domain)
        if normal_domain and len(local) + 1 + len(normal_domain) <= 254:
            return f"{local}@{normal_domain}", ""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        return "", f"is not a valid email address ({reason}) — {example}"
    return result.normalized, ""


_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str:
    """The normalised domain when email-validator accepts it, else "" (the full check explains why)."""
    try:
        return validate_email(f"x@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return ""


# -- phones ----------------------------------------------------------------------------------------
_PHONE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
        "does not say which country it is in (or the code after + is not a country code) — start it with + and "
        "the country code, like +1 212 555 0142.",
    phonenumbers.NumberParseException.NOT_A_NUMBER:
        "is not a phone number — write the client's mobile number, like +1 212 555 0142.",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short for a phone number — check the digits.",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short for a phone number — check the digits.",
    phonenumbers.NumberParseException.TOO_LONG: "is too long for a phone number — check the digits.",
}


@lru_cache(maxsize=65536)
def check_phone(text: str, region: str) -> tuple[str, str]:
    """(E.164 number, "") or ("", the problem in plain words)."""
    value = text.strip()
    if value[:1] == "=" and "(" in value:
        return "", "looks like a spreadsheet formula, not a phone number — type the number itself, like +1 212 555 0142."
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException as exc:
        return "", _PHONE_ERRORS.get(exc.error_type, "is not a phone number — write it like +1 212 555 0142.")
    # Valid where the file's clients live is valid: one region's patterns instead of every region of the
    # country code (+1 alone has 25), half of the check's time for phone numbers.
    expected = region and phonenumbers.country_code_for_region(region) == number.country_code
    if not (expected and phonenumbers.is_valid_number_for_region(number, region)) \
            and not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason == phonenumbers.ValidationResult.TOO_SHORT:
            return "", "is too short for a phone number — check the digits."
        if reason == phonenumbers.ValidationResult.TOO_LONG:
            return "", "is too long for a phone number — check the digits."
        if value.startswith("+"):
            return "", "is not a valid phone number — check the digits and the country code after the +."
        return "", (f"is not a valid phone number in {where} — check the digits, or start it with + and the "
                    "country code if the client is abroad.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


# -- time zones ------------------------------------------------------------------------------------
_ZONE_ALIASES = {windows.lower(): iana for windows, iana in IANA_FOR_WINDOWS.items()}
_ZONE_ALIASES.update({
    "eastern": "America/New_York", "eastern time": "America/New_York", "et": "America/New_York",
    "est": "America/New_York", "edt": "America/New_York", "eastern time - us & canada": "America/New_York",
    "central": "America/Chicago", "central time": "America/Chicago", "ct": "America/Chicago",
    "cst": "America/Chicago", "cdt": "America/Chicago", "central time - us & canada": "America/Chicago",
    "mountain": "America/Denver", "mountain time": "America/Denver", "mt": "America/Denver",
    "mst": "America/Denver", "mdt": "America/Denver", "mountain time - us & canada": "America/Denver",
    "pacific": "America/Los_Angeles", "pacific time": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pacific time - us & canada": "America/Los_Angeles",
    "arizona": "America/Phoenix", "arizona time": "America/Phoenix", "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu", "utc": "UTC", "gmt": "UTC", "z": "UTC",
})


@lru_cache(maxsize=1024)
def resolve_zone(name: str) -> tuple[str, ZoneInfo | None]:
    """(IANA name, ZoneInfo) for an IANA, Windows or common US name; (name, None) when unknown."""
    text = " ".join(name.split())
    alias = _ZONE_ALIASES.get(text.lower())
    if alias:
        return alias, ZoneInfo(alias)
    try:
        return text, ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        pass
    canonical = _zone_names().get(text.replace(" ", "_").lower())
    if canonical:
        return canonical, ZoneInfo(canonical)
    return text, None


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Lower-case IANA name -> its proper spelling, so "america/new_york" is understood."""
    from zoneinfo import available_timezones

    return {name.lower(): name for name in available_timezones()}


# -- dates and times -------------------------------------------------------------------------------
_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for m in names}
_WEEKDAYS = re.compile(r"\b(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(day|nesday|sday|urday)?\b\.?", re.I)
_CLOCK = re.compile(r"(?<![\d:+\-])(\d{1,2})(?:[:h.](\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(a\.?m\.?|p\.?m\.?|a|p)?"
                    r"(?=$|\s|[zZ+-]|utc|gmt)", re.I)
_FRENCH_HOURS = re.compile(r"(?<![\d:.])(\d{1,2})\s?h(\d{2})?(?![\d:a-z])")
_ZONE_TAIL = re.compile(r"\s*(?:(z|utc|gmt)|(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?)\s*$", re.I)


class CellError(ValueError):
    """A value that cannot be read; the message is the plain-words reason with the fix."""


@lru_cache(maxsize=65536)
def parse_moment(text: str, order: str = "MDY") -> tuple[date | None, time | None, timedelta | None]:
    """Read a date, a time, or both (with an optional UTC offset) from a cell; CellError when unreadable.

    ``order`` ("DMY", "MDY" or "YMD") is how 03/04/2027 is read; ``dates`` decides it per column. A value
    that is no date in that order is unreadable here, never read the other way round.
    """
    value = text.strip()
    if not value:
        return None, None, None
    try:  # the common case: ISO text, as Excel cells are converted to
        iso = value[:-1] + "+00:00" if value[-1:] in "zZ" and len(value) > 10 else value
        if len(iso) >= 10 and iso[4] == "-":
            moment = datetime.fromisoformat(iso)
            offset = moment.utcoffset()
            if len(value) == 10:
                return moment.date(), None, None
            return moment.date(), moment.time().replace(tzinfo=None, fold=0), offset
    except ValueError:
        pass
    work = value.lower().replace(",", " ").replace(" at ", " ").replace("@", " ")
    work = _WEEKDAYS.sub(" ", work)
    work = " ".join(work.split())
    work = re.sub(r"(\d{4}-\d{1,2}-\d{1,2})t(\d)", r"\1 \2", work)
    work = _FRENCH_HOURS.sub(lambda m: f"{m.group(1)}:{m.group(2) or '00'}", work)  # 14h30, 9h
    offset = None
    clock = None
    # The time is the last clock-looking piece with a colon or am/pm (or the whole cell, e.g. "9").
    matches = [m for m in _CLOCK.finditer(work) if m.group(2) or m.group(4)]
    if not matches and re.fullmatch(r"\d{1,2}", work):
        matches = list(_CLOCK.finditer(work))
    if matches:
        m = matches[-1]
        clock = _make_time(m)
        tail = work[m.end():]
        date_part = work[:m.start()].strip()
        if tail.strip():
            zone = _ZONE_TAIL.fullmatch(tail)
            if not zone:
                raise CellError("unreadable")
            offset = _offset(zone)
    else:
        date_part = work
    day = _make_date(date_part, order) if date_part else None
    return day, clock, offset


def _make_time(m: re.Match) -> time:
    hour, minute, second, meridiem = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), m.group(4)
    if meridiem:
        if not 1 <= hour <= 12:
            raise CellError("unreadable")
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
    if hour == 24 and minute == 0 and second == 0:
        raise CellError("unreadable")
    try:
        return time(hour, minute, second)
    except ValueError:
        raise CellError("unreadable") from None


def _offset(m: re.Match) -> timedelta:
    if m.group(1):
        return timedelta(0)
    sign = -1 if m.group(2) == "-" else 1
    hours, minutes = int(m.group(3)), int(m.group(4) or 0)
    if hours > 14 or minutes > 59:
        raise CellError("unreadable")
    return sign * timedelta(hours=hours, minutes=minutes)


def _make_date(text: str, order: str) -> date:
    text = text.strip(" -/.")
    try:
        m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})", text)
        if m:
            a, b, c = int(m.group(1)), int(m.group(2)), m.group(3)
            if order == "YMD":
                if len(c) == 4:
                    raise CellError("unreadable")
                return date(_year(m.group(1)), b, int(c))
            year = _year(c)
            return date(year, b, a) if order == "DMY" else date(year, a, b)
        words = re.findall(r"[a-z]+|\d+", text)
        month = next((_MONTHS[w] for w in words if w in _MONTHS), None)
        numbers = [w for w in words if w.isdigit()]
        if month and len(numbers) == 2:
            at = next((i for i, n in enumerate(numbers) if len(n) == 4), 1)
            return date(_year(numbers[at]), month, int(numbers[1 - at]))
        m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?\s+(\d{2}|\d{4})|([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})", text)
        if m:
            if m.group(1):
                return date(_year(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
            return date(_year(m.group(6)), _MONTHS[m.group(4)], int(m.group(5)))
    except (ValueError, KeyError, IndexError, OverflowError):
        pass
    raise CellError("unreadable")


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if year < 100 else year


@lru_cache(maxsize=4096)
def parse_minutes(text: str) -> int:
    """'45', '45 min', '1h', '1.5 hours', '1:30' -> minutes; CellError otherwise."""
    value = text.strip().lower()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", value)
    if m:
        return int(m.group(1)) * 60 + int(m.group(2))
    m = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(m|min|mins|minute|minutes|h|hr|hrs|hour|hours)?\.?", value)
    if not m:
        m2 = re.fullmatch(r"(\d+)\s*(?:h|hr|hrs|hours?)\s*(\d+)\s*(?:m|min|mins|minutes?)?", value)
        if m2:
            return int(m2.group(1)) * 60 + int(m2.group(2))
        raise CellError("unreadable")
    amount = float(m.group(1).replace(",", "."))
    if (m.group(2) or "m").startswith("h"):
        amount *= 60
    if amount != int(amount):
        raise CellError("unreadable")
    return int(amount)


_TRUE = {"yes", "y", "true", "1", "on", "allow", "allowed", "x", "oui", "ja", "si", "sí"}
_FALSE = {"no", "n", "false", "0", "off", "deny", "denied", "non", "nein"}


def parse_yes_no(text: str) -> bool | None:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def as_utc(moment: datetime) -> datetime:
    """For comparing and subtracting: aware datetimes sharing a tzinfo compare by wall clock in Python."""
    return moment.astimezone(timezone.utc)


def plus_minutes(moment: datetime, minutes: int) -> datetime:
    """``minutes`` of real time later, in the same zone (wall-clock addition is wrong across DST)."""
    return (moment.astimezone(timezone.utc) + timedelta(minutes=minutes)).astimezone(moment.tzinfo)


def wall_clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def offset_text(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    total = int(offset.total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    total = abs(total)
    return f"{sign}{total // 60:02d}:{total % 60:02d}"
