"""Bulk page, Check step: edits re-checked on one kept session; one question per date column that reads both ways."""

from __future__ import annotations

from tests.app.driver import assert_clean, button, open_app, texts
from tests.app.test_bulk import upload
from tests.helpers import clients_csv, unique_tag


def edit_cell(at, row: int, header: str, value: str):
    shown = at.session_state["bulk_shown"]
    column = next(cid for cid, h in shown["columns"].items() if h == header)
    at.session_state[shown["key"]] = {"edited_rows": {shown["rows"].index(row): {column: value}},
                                      "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)
    return at


def test_an_edit_is_checked_on_the_same_session_and_only_its_row_is_read_again():
    tag = unique_tag("INC")
    at = upload(open_app("pages/bulk.py"), "inc.csv", clients_csv(3, tag, bad_rows={1: {"Email": "nope"}}))
    assert "**2 ready**, **1 needs attention**" in texts(at)
    session = at.session_state["bulk_check_session"]
    before, _, _ = session.check({})
    edit_cell(at, 3, "Email", "fixed@example.com")
    assert "**3 ready**, **0 need attention**" in texts(at)
    assert at.session_state["bulk_check_session"] is session  # no fresh check of the whole file per edit
    after = session.check({3: {"Email": "fixed@example.com"}})[0]
    assert after.row(3).status == "ok" and before.row(3).status != "ok"
    # The rows nobody touched were not read again: the very same results.
    assert after.row(2) is before.row(2) and after.row(4) is before.row(4)


def ambiguous_csv(tag: str) -> bytes:
    lines = ["Name,Email,Date,Time,Appointment ID",
             f"Ana Ruiz,ana@example.com,03/04/2027,09:00,{tag}-1",
             f"Ben Ode,ben@example.com,05/06/2027,10:00,{tag}-2"]
    return ("\n".join(lines) + "\n").encode()


def date_radio(at):
    found = [r for r in at.radio if str(r.key or "").startswith("bulk_date_order_")]
    assert len(found) == 1, [r.label for r in at.radio]
    return found[0]


def test_a_date_column_that_reads_both_ways_is_asked_once_and_the_answer_is_kept(checked_on_new_year):
    tag = unique_tag("DMY")
    at = upload(open_app("pages/bulk.py"), "dates.csv", ambiguous_csv(tag))
    radio = date_radio(at)
    assert "03/04/2027" in radio.label and radio.value is None
    assert set(radio.options) == {"3 April 2027 (day first)", "March 4, 2027 (month first)"}
    frame = at.data_editor[0].value
    assert all(s.startswith("⚠") for s in frame["_status"])  # warned until answered
    assert "could also be" in frame["_problem"].iloc[0]

    radio.set_value("DMY").run()
    assert_clean(at)
    frame = at.data_editor[0].value
    assert list(frame["_status"]) == ["✓ Ready", "✓ Ready"]
    assert "2027-04-03" in frame["_time"].iloc[0] and "2027-06-05" in frame["_time"].iloc[1]
    assert date_radio(at).value == "DMY"  # the question stays, answered, to change one's mind

    date_radio(at).set_value("MDY").run()
    frame = at.data_editor[0].value
    assert "2027-03-04" in frame["_time"].iloc[0] and "2027-05-06" in frame["_time"].iloc[1]

    again = open_app("pages/bulk.py")  # a browser reload keeps the answer like the mapping
    button(again, "Continue with dates.csv").click().run()
    assert_clean(again)
    frame = again.data_editor[0].value
    assert list(frame["_status"]) == ["✓ Ready", "✓ Ready"] and "2027-03-04" in frame["_time"].iloc[0]
    assert date_radio(again).value == "MDY"
