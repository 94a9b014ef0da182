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
    return ("\ufeff" + _line(columns) + "".join(csv_line(row) for row in rows)).encode("utf-8")


def csv_line(values: Sequence) -> str:
    """One CSV line: formulas neutralised, CRLF (``to_csv_bytes`` is made of these; files written piece by piece too)."""
    return _line(["" if v is None else safe_cell(v) for v in values])


def _line(values: Sequence) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def to_xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence], sheet_name: str = "Appointments", *,
                  links: Sequence[str] = (), more_sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]] = ()
                  ) -> bytes:
    """An XLSX workbook; every text cell is stored as text, never as a formula.

    Cells of the ``links`` columns that hold a web address become real hyperlinks. ``more_sheets``
    are (name, columns, rows) written after the first, the same way.
    """
    import pandas as pd  # here, not at the top: `send` writes CSV and must not pay pandas' start-up

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, cols, body in [(sheet_name, columns, rows), *more_sheets]:
            _write_sheet(writer, name[:31], list(cols), body, links)
    return buffer.getvalue()


def _write_sheet(writer, name: str, columns: list[str], rows: Iterable[Sequence], links: Sequence[str]) -> None:
    import pandas as pd

    frame = pd.DataFrame([[safe_cell(v) for v in row] for row in rows], columns=columns)
    frame.to_excel(writer, index=False, sheet_name=name)
    sheet = writer.sheets[name]
    linked = {i + 1 for i, c in enumerate(columns) if c in links}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.column in linked and cell.value.startswith(("https://", "http://")):
                    cell.hyperlink = cell.value
                    cell.style = "Hyperlink"
    for column_cells in sheet.columns:
        width = max(len(str(c.value or "")) for c in column_cells[:200])
        sheet.column_dimensions[column_cells[0].column_letter].width = min(max(10, width + 2), 60)
