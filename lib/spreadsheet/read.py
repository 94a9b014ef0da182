"""Read a CSV or Excel file of clients into plain text cells, with the row numbers a person sees.

Every cell is data: read as text, never evaluated (a value starting with ``=`` stays text). Text files
are decoded (UTF-8 with or without BOM, UTF-16, then cp1252/latin-1) and their delimiter sniffed;
Excel files are read with openpyxl through pandas. The file type is decided by content as well as
name, so an .xlsx renamed .csv still opens and an old .xls gets a message saying what to do.
Anything that makes the whole file unusable is a ``SpreadsheetError`` whose message is for a person.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from lib.spreadsheet.columns import header_matches

_SAVE_AS = "Open it in Excel and use File > Save As > Excel Workbook (.xlsx) or CSV UTF-8, then upload that file."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_DELIMITERS = (",", ";", "\t", "|")
_HEADER_SEARCH_ROWS = 30

# The csv module refuses cells over 128 KB by default; a spreadsheet cell can hold 32 KB of text,
# and a CSV written by hand anything. Allow up to 16 MB, a file-size limit elsewhere keeps it sane.
if csv.field_size_limit() < 16 * 1024 * 1024:
    csv.field_size_limit(16 * 1024 * 1024)


class SpreadsheetError(Exception):
    """The whole file cannot be used; the message says why and what to do."""


@dataclass
class Sheet:
    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    header_row: int = 1
    sheet_name: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, header: str) -> list[str]:
        """All cells of one column, in row order."""
        index = self.headers.index(header)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, str]]:
        """Rows as header -> cell dicts (for previews)."""
        return [dict(zip(self.headers, row)) for row in self.rows]


# -- entry point -----------------------------------------------------------------------------------
def read_table(data: bytes, filename: str, sheet: str | None = None) -> Sheet:
    """Read CSV/TXT/TSV or .xlsx/.xlsm bytes into a Sheet; SpreadsheetError when the file can't be used."""
    try:
        return _read_table(data, filename or "", sheet)
    except SpreadsheetError:
        raise
    except Exception as exc:  # a reader library failing on a file we did not foresee
        raise SpreadsheetError(f"This file could not be read ({type(exc).__name__}). It may be damaged or in a format "
                               f"this app does not read. {_SAVE_AS}") from exc


def _read_table(data: bytes, filename: str, sheet: str | None) -> Sheet:
    if data is None or not bytes(data).strip(b" \t\r\n\x00"):
        raise SpreadsheetError("This file is empty. Choose a file with a header row and one row per client.")
    data = bytes(data)
    kind = sniff_kind(data, filename)
    if kind == "xlsx":
        return _read_excel(data, sheet)
    if kind == "text":
        return _read_text(data)
    raise SpreadsheetError(_KIND_MESSAGES.get(kind, _KIND_MESSAGES["binary"]))


_KIND_MESSAGES = {
    "xls": "This file is an old Excel 97-2003 workbook (.xls), which this app cannot read. " + _SAVE_AS,
    "encrypted": "This file is password-protected. Remove the password in Excel (File > Info > Protect Workbook > "
                 "Encrypt with Password, clear it), save, and upload it again.",
    "ods": "This file is an OpenDocument spreadsheet (.ods). Save it as Excel Workbook (.xlsx) or CSV and upload that.",
    "zip": "This file is a zip archive or an Office document that is not an Excel workbook. " + _SAVE_AS,
    "html": "This file is a web page (HTML) saved under a spreadsheet name, as some systems' \"Export to Excel\" "
            "does. Open it in Excel and save it as Excel Workbook (.xlsx) or CSV, then upload that file.",
    "xml-spreadsheet": "This file is an Excel 2003 XML spreadsheet, which this app cannot read. " + _SAVE_AS,
    "json": "This file is JSON, not a spreadsheet. To send one appointment described in JSON, paste it into "
            "\"Design one appointment\"; for a list of clients, upload CSV or Excel (.xlsx).",
    "pdf": "This file is a PDF. This app needs the spreadsheet itself: export it from your system as CSV or Excel (.xlsx).",
    "binary": "This file does not look like a spreadsheet (its contents are not text or an Excel workbook). "
              "Export your list as CSV or Excel (.xlsx) and upload that.",
}


def sniff_kind(data: bytes, filename: str = "") -> str:
    """'xlsx', 'text', or why not: 'xls', 'encrypted', 'ods', 'zip', 'pdf', 'html', 'xml-spreadsheet', 'json',
    'binary'. Content beats name."""
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
        except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, NotImplementedError, EOFError):
            if filename.lower().endswith((".xlsx", ".xlsm")) or b"xl/" in data[:4096]:
                raise SpreadsheetError("This file is damaged or incomplete (the Excel file could not be opened; it may "
                                       "have been cut short while copying or downloading). Save it again from "
                                       "Excel and upload the new copy.") from None
            return "zip"
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            if "xl/workbook.bin" in names:
                raise SpreadsheetError("This file is a binary Excel workbook (.xlsb). " + _SAVE_AS)
            return "xlsx"
        if b"opendocument.spreadsheet" in mimetype:
            return "ods"
        return "zip"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            return "encrypted"
        return "xls"
    if data[:5] == b"%PDF-":
        return "pdf"
    decoded = _decode(data)
    if decoded is None:
        return "binary"
    head = decoded[0][:2000].lstrip("\ufeff \t\r\n").lower()
    if head.startswith("<"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in head or "excel.sheet" in head:
            return "xml-spreadsheet"
        if head.startswith(("<!doctype html", "<html", "<table", "<?xml", "<meta", "<head", "<body", "<div")):
            return "html"
    if head.startswith(("{", "[")):
        try:
            json.loads(decoded[0])
            return "json"
        except ValueError:
            pass
    return "text"


# -- text files ------------------------------------------------------------------------------------
def _decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name) or None when the bytes are not text in any encoding we accept."""
    if data[:3] == b"\xef\xbb\xbf":
        candidates = ["utf-8-sig"]
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        candidates = ["utf-16"]
    else:
        sample = data[:4000]
        nul_even = sample[0::2].count(0)
        nul_odd = sample[1::2].count(0)
        half = max(1, len(sample) // 2)
        candidates = []
        if nul_odd > 0.3 * half and nul_even < 0.05 * half:
            candidates.append("utf-16-le")
        elif nul_even > 0.3 * half and nul_odd < 0.05 * half:
            candidates.append("utf-16-be")
        candidates += ["utf-8", "cp1252", "latin-1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, UnicodeError):
            continue
        if _looks_like_text(text):
            return text, encoding
        if encoding in ("utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"):
            continue
        return None  # decodes, but as control characters: binary
    return None


def _looks_like_text(text: str) -> bool:
    sample = text[:20000]
    if not sample:
        return False
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7f <= ord(ch) < 0xa0)
    return bad <= max(2, len(sample) // 100)


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter among , ; tab | that splits the first lines into the most consistent columns."""
    sample = [line for line in lines if line.strip()][:50]
    if not sample:
        return ","
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(sample, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        consistency = counts.count(modal) / len(counts)
        # The header line decides ties: a delimiter that splits the first line is the likely one.
        score = (round(consistency, 2), modal if counts[0] == modal else 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_text(data: bytes) -> Sheet:
    decoded = _decode(data)
    if decoded is None:
        raise SpreadsheetError(_KIND_MESSAGES["binary"])
    text, encoding = decoded
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = list(io.StringIO(text, newline=""))  # not str.splitlines: it also splits on \v, \f, \x1c...
    delimiter = _sniff_delimiter(lines[:200])
    grid: list[list[str]] = []
    numbers: list[int] = []
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        # Excel shows one row per record, however many lines a quoted cell spans: count records, not lines.
        for excel_row, record in enumerate(reader, start=1):
            cells = [_clean(c) for c in record]
            if any(cells):
                grid.append(cells)
                numbers.append(excel_row)
    except csv.Error as exc:
        raise SpreadsheetError(f"This file could not be read as CSV near line {reader.line_num}: {exc}. "
                               "Open it in Excel and save it again as CSV UTF-8.") from None
    name = {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}
    return _to_sheet(grid, numbers, sheet_name=None, sheet_names=[], encoding=name.get(encoding, encoding),
                     delimiter=delimiter)


# -- Excel -----------------------------------------------------------------------------------------
def _read_excel(data: bytes, wanted: str | None) -> Sheet:
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
            names = list(book.sheet_names)
            if wanted is not None and wanted not in names:
                listed = ", ".join(f'"{n}"' for n in names)
                raise SpreadsheetError(f'This workbook has no sheet named "{wanted}". Its sheets are: {listed}.')
            order = [wanted] if wanted is not None else names
            fallback = None
            for name in order:
                frame = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
                grid, numbers = _frame_to_grid(frame)
                if wanted is not None:
                    break
                at, recognised = _header_index(grid)
                if recognised and len(grid) > at + 1:
                    break  # the first sheet that looks like a client list
                if grid and fallback is None:
                    fallback = (name, grid, numbers)
            else:
                if fallback is None:
                    raise SpreadsheetError("This file has no data in any of its sheets. Check that you saved the "
                                           "workbook with the client list in it.")
                name, grid, numbers = fallback
    except SpreadsheetError:
        raise
    except Exception as exc:
        raise SpreadsheetError("This file is damaged or not a workbook Excel can save (the file could not be opened: "
                               f"{type(exc).__name__}). Open it in Excel, save it again, and upload the new copy.") from exc
    if not grid:
        raise SpreadsheetError(f'This workbook has nothing in the sheet "{name}". Choose the sheet that holds the client list.')
    return _to_sheet(grid, numbers, sheet_name=name, sheet_names=names, encoding=None, delimiter=None)


def _frame_to_grid(frame) -> tuple[list[list[str]], list[int]]:
    grid, numbers = [], []
    for index, values in enumerate(frame.itertuples(index=False, name=None)):
        cells = [_clean(excel_cell_text(v)) for v in values]
        if any(cells):
            grid.append(cells)
            numbers.append(index + 1)  # pandas keeps leading blank rows: index 0 is Excel row 1
    return grid, numbers


def excel_cell_text(value) -> str:
    """One Excel cell as the text a person sees: ISO dates/times, integers without '.0', no 'nan'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):  # pandas Timestamp is one too
        try:
            if value != value:  # NaT
                return ""
        except TypeError:
            pass
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        fmt = "%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M"
        return value.strftime(fmt)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    text = str(value)
    return "" if text in ("nan", "NaT", "None", "<NA>") else text


# -- shared ----------------------------------------------------------------------------------------
def _clean(text: str) -> str:
    """Trim, and drop control characters (keeping line breaks and tabs inside a cell)."""
    if not text:
        return ""
    if not text.isprintable() and _CONTROL.search(text):  # every character _CONTROL finds is unprintable
        text = _CONTROL.sub("", text)
    return text.strip()


def find_header(grid: list[list[str]]) -> int:
    """Index of the header row: the first with two or more known column names, else the first row."""
    return _header_index(grid)[0]


def _header_index(grid: list[list[str]]) -> tuple[int, bool]:
    for i, row in enumerate(grid[:_HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row if cell and len(cell) <= 80 and header_matches(cell)) >= 2:
            return i, True
    return 0, False


def _to_sheet(grid: list[list[str]], numbers: list[int], *, sheet_name, sheet_names, encoding, delimiter) -> Sheet:
    if not grid:
        raise SpreadsheetError("This file is empty. Choose a file with a header row and one row per client.")
    at = find_header(grid)
    header_cells = grid[at]
    body = grid[at + 1:]
    body_numbers = numbers[at + 1:]
    width = max([len(header_cells)] + [len(r) for r in body])
    # Drop trailing columns that are empty everywhere (Excel's stray formatting, trailing delimiters).
    while width > 0 and not (header_cells[width - 1:width] and header_cells[width - 1]) \
            and not any(len(r) >= width and r[width - 1] for r in body):
        width -= 1
    headers, seen = [], {}
    for i in range(width):
        name = header_cells[i] if i < len(header_cells) else ""
        name = " ".join(name.split())[:200] or _unnamed(i)
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        headers.append(name if count == 1 else f"{name} ({count})")
    rows = [(r + [""] * (width - len(r)))[:width] if len(r) != width else r for r in body]
    if not rows:
        raise SpreadsheetError(f"This file has column headings (row {numbers[at]}) but no rows of clients below them. "
                               "Add one row per client under the headings.")
    return Sheet(headers=headers, rows=rows, row_numbers=body_numbers, header_row=numbers[at],
                 sheet_name=sheet_name, sheet_names=list(sheet_names), encoding=encoding, delimiter=delimiter)


def _unnamed(index: int) -> str:
    """"Column C" for a blank header, as Excel letters the column (openpyxl imported only when needed)."""
    from openpyxl.utils import get_column_letter

    return f"Column {get_column_letter(index + 1)}"
