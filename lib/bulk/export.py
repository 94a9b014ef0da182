"""Exports people open in Excel: CSV and XLSX with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value, with a leading apostrophe when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        if value.startswith(("+", "-")) and _is_number(value):
            return value  # a phone number or a negative amount is data, not a formula
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    stripped = text.replace(" ", "").replace("(", "").replace(")", "").replace("-", "")
    return stripped.lstrip("+").isdigit()


def to_csv_bytes(columns: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 CSV with a BOM so Excel shows accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence], sheet_name: str = "Appointments") -> bytes:
    """An XLSX workbook; every text cell is stored as text, never as a formula."""
    import pandas as pd  # here, not at the top: `send` writes CSV and must not pay pandas' start-up

    frame = pd.DataFrame([[safe_cell(v) for v in row] for row in rows], columns=list(columns))
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet_name[:31])
        sheet = writer.sheets[sheet_name[:31]]
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        for column_cells in sheet.columns:
            width = max(len(str(c.value or "")) for c in column_cells[:200])
            sheet.column_dimensions[column_cells[0].column_letter].width = min(max(10, width + 2), 60)
    return buffer.getvalue()
