"""Exports are safe to open in a spreadsheet: formulas become text, data stays data."""

import csv
import io

import openpyxl

from lib.bulk.export import safe_cell, to_csv_bytes, to_xlsx_bytes

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1"]


def test_formula_cells_get_an_apostrophe():
    for value in HOSTILE:
        assert safe_cell(value).startswith("'")


def test_phone_numbers_and_negative_numbers_stay_as_they_are():
    assert safe_cell("+1 (312) 922-4122") == "+1 (312) 922-4122"
    assert safe_cell("-42") == "-42"
    assert safe_cell("plain") == "plain" and safe_cell(3) == 3


def test_csv_export_has_a_bom_and_neutralised_cells():
    data = to_csv_bytes(["a", "b"], [[HOSTILE[0], "Zoë"]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1] == ["'" + HOSTILE[0], "Zoë"]


def test_xlsx_export_stores_formulas_as_text():
    data = to_xlsx_bytes(["value"], [[v] for v in HOSTILE])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert all(isinstance(v, str) and not v.startswith("=") for v in values)
    assert all(row[0].data_type == "s" for row in sheet.iter_rows(min_row=2))


def test_xlsx_links_are_real_hyperlinks_and_more_sheets_follow():
    url = "https://visit.teams.microsoft.com/meet/abc?x=1"
    data = to_xlsx_bytes(["Client", "Client join link"], [["Ann", url], ["Ben", ""]], links=("Client join link",),
                         more_sheets=[("Technical", ["requestId"], [["r-1"]])])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Appointments", "Technical"]
    first = book["Appointments"]
    assert [c.value for c in first[1]] == ["Client", "Client join link"]
    assert first["B2"].hyperlink.target == url and first["B2"].value == url
    assert first["B3"].hyperlink is None and first["A2"].hyperlink is None
    assert book["Technical"]["A2"].value == "r-1"


def test_mail_merge_rows_give_each_client_of_a_group_appointment_a_row():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from lib.bulk.results import COLUMNS, MAIL_MERGE_COLUMNS, mail_merge_rows, result_rows, technical_rows
    from lib.bulk.runner import Outcome
    from lib.model.appointment import Appointment, Client

    zone = ZoneInfo("America/New_York")
    appt = Appointment("Family visit", datetime(2026, 12, 8, 9, 0, tzinfo=zone), datetime(2026, 12, 8, 9, 30, tzinfo=zone),
                       time_zone="America/New_York", external_appointment_id="FAM-1", source_rows=(5, 6),
                       clients=(Client("Maria Gonzalez", "maria@example.com", "+12125550101"),
                                Client("Luis Gonzalez", "luis@example.com", "")))
    done = Outcome(key="k", appointment=appt, status="created", meeting_id="M1", join_web_url="https://teams/o",
                   client_join_web_url="https://visit/c", request_id="req-1")
    rows = mail_merge_rows([done], [(7, "Email: missing the part after @")])
    assert list(rows[0]) == MAIL_MERGE_COLUMNS
    assert [(r["Row"], r["Client"], r["Client email"]) for r in rows[:2]] == [
        (5, "Maria Gonzalez", "maria@example.com"), (6, "Luis Gonzalez", "luis@example.com")]
    assert rows[0]["Date"] == "2026-12-08" and rows[0]["Start"] == "09:00" and rows[0]["End"] == "09:30"
    assert rows[0]["Time zone"] == "America/New_York" and rows[0]["Client join link"] == "https://visit/c"
    assert rows[2]["Status"] == "invalid" and rows[2]["Problem"].startswith("Email")
    assert "req-1" not in str(rows) and technical_rows([done])[0]["requestId"] == "req-1"
    contract = ["row", "status", "externalAppointmentId", "onlineMeetingId", "joinWebUrl", "clientJoinWebUrl", "error"]
    assert COLUMNS[:7] == contract and {"Client", "Client email", "Date", "Client join link"} <= set(COLUMNS)
    per_row = result_rows([done])
    assert [(r["row"], r["Client"]) for r in per_row] == [(5, "Maria Gonzalez"), (6, "Luis Gonzalez")]
