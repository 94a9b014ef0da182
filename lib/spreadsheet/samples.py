"""Sample data and templates, so a demo never starts from an empty screen."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

TEMPLATE_HEADERS = ["Name", "Email", "Mobile Phone", "Date", "Time", "Duration (minutes)", "Subject",
                    "Time Zone", "Appointment ID"]


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def sample_clients_csv(today: date | None = None) -> bytes:
    """About a dozen realistic clients (UTF-8 CSV): accents, mixed US phone formats, some rows with a date
    and time and some without (the scheduler fills those), and a couple sharing one Appointment ID.
    Dates are in the coming weeks, so the sample always validates without errors."""
    today = today or datetime.now(timezone.utc).date()
    monday = _next_monday(today)
    tuesday, wednesday, thursday = (monday + timedelta(days=i) for i in (1, 2, 3))
    rows = [
        ["José Álvarez", "jose.alvarez@example.com", "(212) 555-0142", monday, "09:00", "30", "Initial consultation", "America/New_York", "BK-1001"],
        ["Zoë Lefèvre", "zoe.lefevre@example.com", "212.555.0187", monday, "09:30", "45", "Follow-up visit", "America/New_York", "BK-1002"],
        ["Björn Åkesson", "bjorn.akesson@example.org", "+1 415 555 0123", monday, "1:00 PM", "30", "Initial consultation", "America/Los_Angeles", "BK-1003"],
        ["Amélie Dubois", "amelie.dubois@example.net", "646-555-0199", tuesday, "10:00", "60", "Family planning session", "America/New_York", "BK-1004"],
        ["François Dubois", "francois.dubois@example.net", "646-555-0198", tuesday, "10:00", "60", "Family planning session", "America/New_York", "BK-1004"],
        ["Siobhán O'Connor", "siobhan.oconnor@example.com", "+1 (617) 555-0110", tuesday, "2:30 PM", "30", "Follow-up visit", "America/New_York", "BK-1005"],
        ["Nguyễn Thị Lan", "lan.nguyen@example.com", "713 555 0133", wednesday, "11:15", "30", "Initial consultation", "America/Chicago", "BK-1006"],
        ["Łukasz Wiśniewski", "lukasz.w@example.com", "+13125550164", "", "", "", "", "", ""],
        ["Chloé Martin", "chloe.martin@example.com", "(305) 555-0177", "", "", "", "", "", ""],
        ["Renée Côté", "renee.cote@example.org", "1-202-555-0156", "", "", "", "", "", ""],
        ["Mateo Peña", "mateo.pena@example.com", "", "", "", "", "", "", ""],
        ["Søren Kierkegaard", "soren.k@example.com", "206 555 0101", thursday, "16:00", "30", "Follow-up visit", "America/Los_Angeles", "BK-1007"],
    ]
    return _csv(TEMPLATE_HEADERS, [[c.isoformat() if isinstance(c, date) else c for c in r] for r in rows])


def _template_rows(today: date | None = None) -> list[list[str]]:
    monday = _next_monday(today or datetime.now(timezone.utc).date())
    return [
        ["Ana García", "ana.garcia@example.com", "+1 212 555 0142", monday.isoformat(), "09:30", "30",
         "Initial consultation", "America/New_York", "BK-0001"],
        ["Tom Becker", "tom.becker@example.com", "(415) 555-0123", "", "", "", "", "", ""],
    ]


def template_csv() -> bytes:
    """The columns the app understands best, with two example rows (the second left for the scheduler)."""
    return _csv(TEMPLATE_HEADERS, _template_rows())


def template_xlsx() -> bytes:
    """The same template as an Excel workbook; every cell is text so phone numbers keep their +."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Clients"
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _template_rows():
        sheet.append(row)
    for column in sheet.iter_cols(min_row=1, max_row=200, max_col=len(TEMPLATE_HEADERS)):
        for cell in column:
            cell.number_format = "@"
            cell.data_type = "s" if cell.value is not None else cell.data_type
        sheet.column_dimensions[column[0].column_letter].width = 22
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(headers: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")
