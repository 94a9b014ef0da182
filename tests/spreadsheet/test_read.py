"""Reading CSV and Excel files: encodings, delimiters, sheets, header rows, row numbers, broken files."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook

from lib.spreadsheet.read import Sheet, SpreadsheetError, excel_cell_text, read_table, sniff_kind
from tests.fixtures import make

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def xlsx(rows: list[list], title: str = "Sheet1") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- text files -------------------------------------------------------------------------------------
def test_a_plain_utf8_csv_reads_every_cell_as_trimmed_text_with_excel_row_numbers():
    sheet = read_table(b"Name, Email ,Phone\n Anna , anna@example.com ,0142\nBob,bob@example.com,007\n", "c.csv")
    assert isinstance(sheet, Sheet)
    assert sheet.headers == ["Name", "Email", "Phone"]
    assert sheet.rows == [["Anna", "anna@example.com", "0142"], ["Bob", "bob@example.com", "007"]]
    assert sheet.row_numbers == [2, 3] and sheet.header_row == 1
    assert sheet.encoding == "utf-8" and sheet.delimiter == ","


def test_a_semicolon_cp1252_csv_keeps_its_accents():
    sheet = read_table(fixture("semicolon_cp1252.csv"), "clients.csv")
    assert sheet.delimiter == ";" and sheet.encoding == "cp1252"
    assert sheet.headers[2] == "Téléphone"
    assert sheet.rows[0][0] == "Hélène Dupré" and sheet.rows[1][0] == "François Lemaître"


def test_a_utf8_csv_with_a_byte_order_mark_has_a_clean_first_header():
    sheet = read_table(fixture("utf8_bom.csv"), "clients.csv")
    assert sheet.headers[0] == "Name" and sheet.encoding == "utf-8-sig"
    assert sheet.rows[0][0] == "Zoë Lefèvre"


def test_a_tab_separated_file_is_split_on_tabs():
    sheet = read_table(fixture("tab_separated.tsv"), "clients.tsv")
    assert sheet.delimiter == "\t"
    assert sheet.headers == ["Client Name", "Client Email", "Mobile", "Start"]
    assert sheet.rows[0] == ["Renée Côté", "renee.cote@example.org", "202 555 0156", "2027-03-05T10:00"]


def test_a_utf16_unicode_text_file_is_decoded():
    sheet = read_table(fixture("utf16.txt"), "clients.txt")
    assert sheet.encoding == "utf-16" and sheet.delimiter == "\t"
    assert sheet.rows[0][0] == "Nguyễn Thị Lan" and sheet.rows[1][0] == "Łukasz Wiśniewski"


def test_utf16_without_a_byte_order_mark_is_recognised_too():
    data = "Name,Email\nAnna,anna@example.com\n".encode("utf-16-le")
    assert read_table(data, "c.csv").rows == [["Anna", "anna@example.com"]]


def test_a_pipe_delimited_file_is_split_on_pipes():
    sheet = read_table(b"Name|Email|Phone\nAnna|anna@example.com|212 555 0142\n", "c.txt")
    assert sheet.delimiter == "|" and sheet.rows[0][2] == "212 555 0142"


def test_commas_inside_quotes_do_not_confuse_the_delimiter_guess():
    data = b'Name;Email;Notes\n"Smith, Anna";anna@example.com;"a, b, c"\n"Doe, Jo";jo@example.com;x\n'
    sheet = read_table(data, "c.csv")
    assert sheet.delimiter == ";" and sheet.rows[0][0] == "Smith, Anna"


def test_blank_lines_are_dropped_but_still_counted_in_row_numbers():
    sheet = read_table(b"Name,Email\n\nAnna,a@example.com\n,\n\nBob,b@example.com\n", "c.csv")
    assert sheet.rows == [["Anna", "a@example.com"], ["Bob", "b@example.com"]]
    assert sheet.row_numbers == [3, 6]


def test_a_cell_spanning_two_lines_stays_one_row_as_in_excel():
    sheet = read_table(b'Name,Notes\nAnna,"line one\nline two"\nBob,x\n', "c.csv")
    assert sheet.row_numbers == [2, 3]
    assert sheet.rows[0][1] == "line one\nline two"


def test_ragged_rows_are_padded_and_extra_cells_get_their_own_column():
    sheet = read_table(fixture("ragged.csv"), "ragged.csv")
    assert sheet.headers == ["Name", "Email", "Phone", "Column D", "Column E"]
    assert sheet.rows[0] == ["Short Row", "short@example.com", "", "", ""]
    assert sheet.rows[1][3:] == ["extra", "more"]
    assert sheet.row_numbers == [2, 4, 6]


def test_empty_and_duplicate_headers_get_names_a_person_can_pick():
    sheet = read_table(b"Name,,Email,Email\nAnna,x,a@example.com,b@example.com\n", "c.csv")
    assert sheet.headers == ["Name", "Column B", "Email", "Email (2)"]


def test_a_title_line_above_the_header_is_skipped_in_a_csv():
    data = b"Clients for March\n\nName,Email,Phone\nAnna,a@example.com,1\n"
    sheet = read_table(data, "c.csv")
    assert sheet.headers == ["Name", "Email", "Phone"] and sheet.header_row == 3 and sheet.row_numbers == [4]


def test_values_that_look_like_formulas_stay_text():
    sheet = read_table(b'Name,Email\n=1+1,"=HYPERLINK(""http://x"")"\n+SUM(A1),@cmd\n', "c.csv")
    assert sheet.rows == [["=1+1", '=HYPERLINK("http://x")'], ["+SUM(A1)", "@cmd"]]


def test_hostile_cells_are_kept_as_text_without_control_characters():
    sheet = read_table(make.hostile(), "hostile.csv")
    assert sheet.rows[0][0].startswith("=HYPERLINK(")
    assert len(sheet.rows[2][3]) == 100_000
    assert sheet.rows[3][0] == "CtrlChars" and sheet.rows[3][1] == "ctrl@example.com"
    assert sheet.rows[4][0] == "Emoji 😀 Person"


def test_numbers_in_a_csv_are_not_reformatted():
    sheet = read_table(b"Phone,Zip,Amount\n0044 20 7946 0958,02134,1.50\n", "c.csv")
    assert sheet.rows[0] == ["0044 20 7946 0958", "02134", "1.50"]


# -- Excel ------------------------------------------------------------------------------------------
def test_an_xlsx_defaults_to_the_sheet_holding_the_client_list_and_finds_a_header_on_row_4():
    sheet = read_table(fixture("two_sheets_header_row4.xlsx"), "clients.xlsx")
    assert sheet.sheet_name == "Clients" and sheet.sheet_names == ["Read me", "Clients"]
    assert sheet.header_row == 4
    assert sheet.headers[:3] == ["Name", "Email", "Phone"]
    assert sheet.row_numbers == [5, 6, 8]  # the blank Excel row 7 is skipped but counted
    assert sheet.encoding is None and sheet.delimiter is None


def test_excel_dates_times_and_numbers_become_the_text_a_person_sees():
    sheet = read_table(fixture("two_sheets_header_row4.xlsx"), "clients.xlsx")
    anna, jose, zoe = sheet.rows
    assert anna[2] == "12125550142"  # a phone stored as a number: no ".0", no exponent
    assert anna[3] == "2027-03-02" and anna[4] == "09:30"
    assert jose[5] == "2027-03-02T14:00" and jose[6] == "45"
    assert zoe[8] == "=1+1"  # a text cell starting with = stays text


def test_a_named_sheet_can_be_chosen():
    data = make.two_sheets_header_row4()
    with pytest.raises(SpreadsheetError, match="no rows of clients"):
        read_table(data, "clients.xlsx", sheet="Read me")
    assert read_table(data, "clients.xlsx", sheet="Clients").sheet_name == "Clients"


def test_an_unknown_sheet_name_lists_the_sheets_there_are():
    with pytest.raises(SpreadsheetError, match='no sheet named "Nope".*"Read me", "Clients"'):
        read_table(make.two_sheets_header_row4(), "clients.xlsx", sheet="Nope")


def test_excel_cell_text_formats_each_kind_of_value():
    assert excel_cell_text(None) == "" and excel_cell_text(float("nan")) == ""
    assert excel_cell_text(2125550142.0) == "2125550142" and excel_cell_text(1.5) == "1.5"
    assert excel_cell_text(datetime(2027, 3, 2)) == "2027-03-02"
    assert excel_cell_text(datetime(2027, 3, 2, 9, 30)) == "2027-03-02T09:30"
    assert excel_cell_text(datetime(2027, 3, 2, 9, 30, 15)) == "2027-03-02T09:30:15"
    assert excel_cell_text(date(2027, 3, 2)) == "2027-03-02" and excel_cell_text(time(14, 5)) == "14:05"
    assert excel_cell_text(True) == "TRUE" and excel_cell_text(" x ") == " x "


def test_an_xlsx_renamed_csv_is_read_as_excel():
    sheet = read_table(xlsx([["Name", "Email"], ["Anna", "a@example.com"]]), "clients.csv")
    assert sheet.rows == [["Anna", "a@example.com"]] and sheet.sheet_name == "Sheet1"


def test_a_csv_named_xlsx_is_read_as_text():
    sheet = read_table(b"Name,Email\nAnna,a@example.com\n", "clients.xlsx")
    assert sheet.rows == [["Anna", "a@example.com"]] and sheet.delimiter == ","


def test_a_workbook_whose_sheets_are_all_empty_is_refused():
    with pytest.raises(SpreadsheetError, match="no data"):
        read_table(xlsx([]), "empty.xlsx")


# -- files that cannot be used -----------------------------------------------------------------------
@pytest.mark.parametrize("name, data, words", [
    ("empty.csv", b"", "empty"),
    ("blank.csv", b"\r\n\r\n  \n", "empty"),
    ("only_headers.csv", fixture("only_headers.csv"), "no rows of clients"),
    ("garbage.csv", make.garbage(), "does not look like a spreadsheet"),
    ("old.xls", make.old_xls(), "Save As"),
    ("old-renamed.csv", make.old_xls(), "97-2003"),
    ("locked.xlsx", make.encrypted_xlsx(), "password"),
    ("truncated.xlsx", make.truncated_xlsx(), "damaged"),
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
    ("archive.csv", b"PK\x03\x04" + b"\x00" * 100, "zip"),
    ("export.xls", b"<html><body><table><tr><td>Name</td><td>Email</td></tr></table></body></html>", "web page"),
    ("export.xls", b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook '
                   b'xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>', "XML spreadsheet"),
    ("appointment.csv", b'{"meeting": {"subject": "x"}}', "JSON"),
])
def test_an_unusable_file_raises_a_spreadsheet_error_that_says_what_to_do(name, data, words):
    with pytest.raises(SpreadsheetError, match=words):
        read_table(data, name)


def test_a_zip_that_is_not_a_workbook_is_refused_plainly():
    out = io.BytesIO()
    import zipfile
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(SpreadsheetError, match="not an Excel workbook"):
        read_table(out.getvalue(), "letter.xlsx")


def test_the_file_kind_is_decided_by_content():
    assert sniff_kind(make.two_sheets_header_row4(), "x.csv") == "xlsx"
    assert sniff_kind(b"a,b\n1,2\n", "x.xlsx") == "text"
    assert sniff_kind(make.old_xls(), "x.xls") == "xls"
    assert sniff_kind(make.garbage(), "x.csv") == "binary"


def _mutations() -> list[tuple[str, bytes]]:
    good_xlsx = make.two_sheets_header_row4()
    cases = [
        ("cut-1.xlsx", good_xlsx[:1]), ("cut-30.xlsx", good_xlsx[:30]), ("cut-200.xlsx", good_xlsx[:200]),
        ("cut-end.xlsx", good_xlsx[:-22]), ("flipped.xlsx", good_xlsx[:1000] + b"\xff" * 500 + good_xlsx[1500:]),
        ("nul.csv", b"\x00" * 500), ("bom-only.csv", b"\xef\xbb\xbf"), ("utf16-bom-only.txt", b"\xff\xfe"),
        ("quote.csv", b'Name,Email\n"unterminated,a@example.com\n'), ("one-cell.csv", b"x"),
        ("newlines.csv", b"\n\n\n"), ("huge-line.csv", b"Name,Email\n" + b"a" * 300_000 + b",x@example.com\n"),
        ("half-utf16.txt", "Name\tEmail\n".encode("utf-16")[:-1]), ("mixed.csv", b"Name,Email\n\xff\xfe\x00A,\x81\n"),
        ("ods.ods", _zip_with({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"})),
        ("xlsb.xlsx", _zip_with({"xl/workbook.bin": "x"})),
        ("fake-xlsx.xlsx", _zip_with({"xl/workbook.xml": "<not-really/>"})),
    ]
    return cases


def _zip_with(files: dict[str, str]) -> bytes:
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize("name, data", _mutations(), ids=[n for n, _ in _mutations()])
def test_no_malformed_file_raises_anything_but_spreadsheet_error(name, data):
    try:
        read_table(data, name)
    except SpreadsheetError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)


def test_title_rows_and_multi_line_records_count_as_excel_counts_them():
    data = (b'Clinic list,,\r\nExported 2027-01-04,,\r\nName,Email,Notes\r\n'
            b'Anna,a@example.com,"first line\r\nsecond line\r\nthird line"\r\nBob,b@example.com,\r\n'
            b'\r\nCy,c@example.com,"x\ny"\r\nDi,d@example.com,\r\n')
    sheet = read_table(data, "c.csv")
    assert sheet.header_row == 3
    assert sheet.row_numbers == [4, 5, 7, 8]
    assert [r[0] for r in sheet.rows] == ["Anna", "Bob", "Cy", "Di"]
