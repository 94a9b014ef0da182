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
