"""Reading one cell: emails, phones, dates and times in the forms people write them."""

from __future__ import annotations

import pytest

from lib.spreadsheet.cells import CellError, check_email, check_phone, parse_minutes, parse_moment, parse_yes_no


@pytest.mark.parametrize("address", ["Anna@EXAMPLE.COM", "o'brien+tag@Mail.Example.org", "x@bücher.de",
                                     "Zoë@example.com", "a.b.c@sub.example.co.uk", "first_last-1@example.io"])
def test_the_quick_path_normalises_exactly_like_email_validator(address):
    from email_validator import validate_email

    check_email.cache_clear()
    assert check_email(address) == (validate_email(address, check_deliverability=False).normalized, "")


@pytest.mark.parametrize("text, expected", [
    ("2027-03-02", ("2027-03-02", None)), ("09:30", (None, "09:30:00")), ("9", (None, "09:00:00")),
    ("2:30 p.m.", (None, "14:30:00")), ("2 March 2027", ("2027-03-02", None)),
])
def test_parse_moment_reads_dates_and_times_on_their_own(text, expected):
    day, at, _ = parse_moment(text)
    assert (day.isoformat() if day else None, at.isoformat() if at else None) == expected


@pytest.mark.parametrize("text, expected", [
    ("14h30", "14:30:00"), ("9h", "09:00:00"), ("14.30", "14:30:00"), ("2:30 PM", "14:30:00"), ("2 pm", "14:00:00"),
    ("12:00 PM", "12:00:00"), ("12:15 AM", "00:15:00"), ("12 am", "00:00:00"), ("9:05 a.m.", "09:05:00"),
])
def test_times_as_people_write_them_in_europe_and_the_us(text, expected):
    day, at, _ = parse_moment(text)
    assert day is None and at.isoformat() == expected


@pytest.mark.parametrize("text, order, expected", [
    ("03/04/2027", "DMY", "2027-04-03"), ("03/04/2027", "MDY", "2027-03-04"), ("03.12.2027 14:30", "DMY", "2027-12-03"),
    ("27/03/04", "YMD", "2027-03-04"), ("2027-03-04", "DMY", "2027-03-04"), ("4 March 2027", "MDY", "2027-03-04"),
])
def test_the_date_order_is_the_callers_choice(text, order, expected):
    assert parse_moment(text, order)[0].isoformat() == expected


@pytest.mark.parametrize("text, order", [("25/03/2027", "MDY"), ("03/25/2027", "DMY"), ("13:70", "MDY")])
def test_a_value_that_is_no_date_in_the_chosen_order_is_unreadable_never_swapped(text, order):
    with pytest.raises(CellError):
        parse_moment(text, order)


def test_phones_become_e164_or_say_what_is_wrong():
    assert check_phone("(212) 555-0142", "US") == ("+12125550142", "")
    number, problem = check_phone("555-0142", "US")
    assert number == "" and problem.startswith("is not a valid phone number in US")


@pytest.mark.parametrize("text, minutes", [("45", 45), ("1h", 60), ("1.5 hours", 90), ("1:30", 90), ("1h 15m", 75)])
def test_lengths_in_minutes(text, minutes):
    assert parse_minutes(text) == minutes


def test_yes_and_no_in_several_languages():
    assert [parse_yes_no(v) for v in ("oui", "Ja", "no", "nein", "maybe")] == [True, True, False, False, None]


def test_every_character_clean_drops_is_one_that_is_not_printable():
    """clean() skips its search for printable text: that is only right while this holds."""
    import sys
    from lib.spreadsheet import cells, read
    for pattern in (cells._CONTROL, read._CONTROL):
        for code in range(sys.maxunicode + 1):
            ch = chr(code)
            if pattern.match(ch):
                assert not ch.isprintable(), hex(code)
