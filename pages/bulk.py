"""Bulk from spreadsheet: upload, match columns, schedule, check, create — one step after another."""

import hashlib
from datetime import datetime, time, timedelta, timezone

import streamlit as st

from lib.model.appointment import ModelError
from lib.model.timezones import COMMON_ZONES
from lib.screens import bulk_job
from lib.screens import check_grid as grid
from lib.screens.bulk_job import Checked, KeptJob, Tally
from lib.spreadsheet.columns import FIELD_BY_KEY, FIELDS, auto_map, mapping_key, missing_required
from lib.spreadsheet.read import SpreadsheetError
from lib.spreadsheet.samples import template_csv, template_xlsx
from ui import bulk_session, messages, navigation, results, state
from ui import notify_step

navigation.through_navigation()

PAGE_ROWS = 1000  # rows per page of the check grid; a 10,000-row file is ten pages, never 10,000 widgets
NOT_IN_FILE = "— not in the file —"
KEPT = bulk_session.kept_jobs()  # what a browser reload must not lose


messages.header("Bulk from spreadsheet", "Upload your list of clients; check it; create every appointment "
                                         "with one click.")
if "bulk_source" in st.session_state and isinstance(st.session_state["bulk_source"].get("data"), str):
    bulk_session.use_source(st.session_state["bulk_source"]["name"], st.session_state["bulk_source"]["data"])
profile = state.profile()
source = st.session_state.get("bulk_source")

# -- 1 · Upload ---------------------------------------------------------------------------------------
st.subheader("1 · Upload")
drop, extras = st.columns([3, 2], gap="large")
# After a visit to another page the uploader is empty again: its label names the file in use.
drop.file_uploader(f"Replace {source['name']} with another CSV or Excel file" if source else "CSV or Excel file",
                   type=["csv", "txt", "tsv", "xlsx", "xlsm"], key="upload_bulk", on_change=bulk_session.on_upload,
                   help="The first row should hold column names; any names will do.")
with extras:
    kept = KEPT.load() if not source else None
    if kept is not None:
        st.button(kept.offer(), on_click=bulk_session.on_continue, type="primary", icon=":material/restore:", width="stretch",
                  help="Where you left off: the file, the column matching, the schedule, your fixes and the results.")
    st.button("Try with sample clients", on_click=bulk_session.on_sample, icon=":material/group:", width="stretch")
    template_a, template_b = st.columns(2)
    template_a.download_button("Template (CSV)", template_csv(), "appointments-template.csv", "text/csv",
                               icon=":material/download:", width="stretch", on_click="ignore")
    template_b.download_button("Template (Excel)", template_xlsx(), "appointments-template.xlsx",
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               icon=":material/download:", width="stretch", on_click="ignore")

if not source:
    messages.empty_state("Drop a CSV or Excel file with one client per row: a name, an email or a mobile number, "
                         "and optionally a date and time. No file at hand? **Try with sample clients** or start "
                         "from a template.", icon=":material/upload_file:")
    st.stop()

data, name = source["data"], source["name"]
try:
    sheet = bulk_session.read(data, name, st.session_state.get("bulk_sheet"))
except SpreadsheetError as exc:
    messages.show_error(exc, what=f"{name} cannot be used")
    st.stop()
if len(sheet.sheet_names) > 1:
    if st.session_state.get("bulk_sheet") not in sheet.sheet_names:
        st.session_state["bulk_sheet"] = sheet.sheet_name if sheet.sheet_name in sheet.sheet_names else sheet.sheet_names[0]
    st.selectbox("Sheet", sheet.sheet_names, key="bulk_sheet",
                 help="This workbook has several sheets; pick the one with the clients.")
    sheet = bulk_session.read(data, name, st.session_state.get("bulk_sheet"))
st.markdown(f":material/description: **{name}** — " + " · ".join(bulk_job.file_details(sheet)))
st.caption("The first rows, exactly as read. Odd characters or everything in one column mean the file was "
           "read wrongly; save it as CSV UTF-8 or Excel and upload it again.")
st.dataframe(grid.first_rows(sheet), hide_index=True, width="stretch")
source_id = bulk_job.source_key(data, sheet.sheet_name)

# -- 2 · Match columns ----------------------------------------------------------------------------------
st.subheader("2 · Match columns")
remembered = st.session_state.setdefault("bulk_mappings", {})
shape = mapping_key(sheet.headers)
if restored := st.session_state.pop("bulk_restored_mapping", None):
    remembered[shape] = restored
if shape not in remembered:
    remembered[shape] = auto_map(sheet.headers)
mapping = dict(remembered[shape])
options = [""] + list(sheet.headers)  # "" is "not in the file" (None would show as an empty choice)


def field_picker(column, key: str) -> None:
    f = FIELD_BY_KEY[key]
    widget = f"bulk_map_{shape}_{key}"
    if widget not in st.session_state or st.session_state[widget] not in options:
        st.session_state[widget] = mapping.get(key) or ""
    column.selectbox(f.label, options, key=widget, help=f.help or None,
                     format_func=lambda h: h or NOT_IN_FILE)
    mapping[key] = st.session_state[widget] or None
    sample = grid.sample_values(sheet, mapping[key])
    column.caption(f"e.g. `{sample}`" if sample else ("—" if mapping[key] is None else "(empty column)"))


for question in missing_required(mapping):
    st.warning(question, icon=":material/help:")
found = [f.key for f in FIELDS if mapping.get(f.key) or f.required]
cells = st.columns(4)
for i, key in enumerate(found):
    field_picker(cells[i % 4], key)
with st.expander("Fields not in this file"):
    cells = st.columns(4)
    for i, key in enumerate([f.key for f in FIELDS if f.key not in found]):
        field_picker(cells[i % 4], key)
remembered[shape] = dict(mapping)
if missing_required(mapping):
    st.info("Pick the column for each question above to go on.", icon=":material/arrow_upward:")
    st.stop()

# -- 3 · Schedule -------------------------------------------------------------------------------------------
st.subheader("3 · Schedule")
target = bulk_session.bookings_target()  # None in the meeting flows
has_times = bool(mapping.get("start") or mapping.get("date"))
st.caption(("Rows that have no date or time get the next free slot from here." if has_times else
            "This file has no dates or times, so every row gets the next free slot from here."))
if target is not None:
    st.info(f"Booking into **{target.business}** through Microsoft Bookings. {bulk_job.service_length_note(target)}",
            icon=":material/event_available:")
zones = list(dict.fromkeys([state.browser_zone(), *COMMON_ZONES]))
bulk_session.schedule_defaults(zones[0])
if st.session_state["bulk_tz"] not in zones:
    zones.insert(0, st.session_state["bulk_tz"])
a, b, c, d = st.columns(4)
a.date_input("First day", key="bulk_day", format="YYYY-MM-DD")
b.time_input("First start", key="bulk_time", step=300)
c.number_input("Length (minutes)", key="bulk_duration", min_value=5, max_value=480, step=5)
d.number_input("Gap between (minutes)", key="bulk_gap", min_value=0, max_value=240, step=5)
a, b, c, d = st.columns(4)
a.selectbox("Time zone", zones, key="bulk_tz", accept_new_options=True,
            help="The zone the times in the file and these slots are in. Defaults to your browser's.")
b.text_input("Subject", key="bulk_subject", help="Used when the file has no subject column.")
hours_on = c.toggle("Working hours only", key="bulk_hours_on")
if hours_on:
    c.slider("Working hours", min_value=time(0, 0), max_value=time(23, 45), key="bulk_hours", step=timedelta(minutes=15),
             format="HH:mm", label_visibility="collapsed")
d.toggle("Weekdays only", key="bulk_weekdays")

choice = bulk_session.schedule_choice(hours_on)
edits = bulk_session.current_edits(source_id)
organizer = profile.organizer if profile is not None and profile.auth == "client_credentials" else ""
try:
    report, frame, timeline = bulk_session.check(data, name, sheet.sheet_name, mapping, choice, edits, organizer)
except ModelError as exc:
    messages.show_error(exc, what="The schedule cannot be used")
    st.stop()
run_ids = st.session_state.setdefault("bulk_run_ids", [])


def kept_job() -> KeptJob:
    return KeptJob(name=name, data=data, sheet=sheet.sheet_name, mapping=mapping, schedule=choice, edits=edits,
                   run_ids=run_ids, rows=len(sheet.rows), dates=st.session_state.get("bulk_dates", {}))


KEPT.save(kept_job())
if len(timeline):
    st.altair_chart(grid.timeline_chart(timeline), width="stretch")
    if len(timeline) < len(report.appointments):
        st.caption(f"The chart shows the first {timeline['date'].nunique()} days ({len(timeline):,} of "
                   f"{len(report.appointments):,} appointments).")

# -- 4 · Check -----------------------------------------------------------------------------------------
st.subheader("4 · Check")
bulk_session.ask_date_orders(report)
app_only = profile is not None and profile.auth == "client_credentials"
checked = Checked(report, bulk_job.rule_refusals(report, target, app_only=app_only, now=datetime.now(timezone.utc)))
ready, attention = checked.ok, checked.error
st.markdown(f"**{ready:,} ready**, **{attention:,} need{'s' if attention == 1 else ''} attention**"
            + (" — fix the cells in the table; each change is checked again at once." if attention else " — all good."))
if checked.refused:
    st.caption(":material/rule: Rows marked to fix break a rule of the booking business that Microsoft Bookings "
               "applies to apps; they are not sent until fixed.")
frame = view = checked.frame(frame)
if attention:
    st.session_state.setdefault("bulk_filter", "All rows")
    if st.segmented_control("Show", ["All rows", "Need attention"], key="bulk_filter") == "Need attention":
        view = frame[frame[grid.STATUS] == grid.ERROR]
pages = max(1, -(-len(view) // PAGE_ROWS))
page = 1
if pages > 1:
    st.session_state["bulk_page"] = min(max(1, st.session_state.get("bulk_page", 1)), pages)
    page = st.columns([1, 3])[0].number_input(f"Page (of {pages}, {PAGE_ROWS:,} rows each)", 1, pages,
                                              key="bulk_page")
view = view.iloc[(page - 1) * PAGE_ROWS: page * PAGE_ROWS].reset_index(drop=True)
columns = grid.grid_columns(sheet, mapping)
shown_rows = view[grid.ROW].tolist()
editor_key = f"grid_bulk_{source_id}_{hashlib.sha1(repr(shown_rows).encode()).hexdigest()[:10]}"
bulk_session.check_editor(view, editor_key, choice.time_zone, columns, attention)
problems = checked.problems()
if problems:
    with st.expander(f"What needs attention, in full ({len(problems):,} row{'s' if len(problems) != 1 else ''})",
                     icon=":material/checklist:", expanded=len(problems) <= 10):
        st.markdown("\n".join(f"- **Row {row}** — {text}" for row, text in problems[:50]))
        if len(problems) > 50:
            st.caption(f"… and {len(problems) - 50:,} more: choose “Need attention” above to see them all in the table.")
st.session_state["bulk_shown"] = {"source": source_id, "key": editor_key, "rows": shown_rows, "columns": columns}

with st.expander("Preview the exact requests for a row", icon=":material/code:"):
    bulk_session.request_preview(report, frame, profile, target)

# -- 5 · Create -----------------------------------------------------------------------------------------
st.subheader("5 · Create")
job, outcome_store = bulk_session.run_and_results(source_id, run_ids, lambda: KEPT.save(kept_job()))
invalid = checked.invalid()
running = bool(job and not job["run"].done)

count = len(checked.appointments)
if note := bulk_job.grouping_note(report):
    st.caption(f":material/group: {note}")
if attention:
    st.caption(f"{attention:,} row{'s' if attention != 1 else ''} that need attention will be skipped and listed "
               "in the results; fix them above to include them.")
if st.button(bulk_job.create_label(count), type="primary", icon=":material/rocket_launch:",
             disabled=running or count == 0 or profile is None):
    st.session_state.pop("bulk_start_error", None)
    bulk_session.start_run(name, source_id, checked.appointments, invalid, retry=False, target=target)
    st.rerun()
if error := st.session_state.get("bulk_start_error"):
    messages.show_error(error, what="Nothing was created")
for warning in st.session_state.get("bulk_quota", []) if job else []:
    st.warning(warning, icon=":material/warning:")


if running:
    bulk_session.progress_panel()

if outcome_store:
    tally = Tally.of(outcome_store["outcomes"], outcome_store["invalid"], outcome_store.get("cancelled", False))
    if tally.all_good:
        st.success(tally.summary(), icon=":material/task_alt:")
    else:
        st.warning(tally.summary(), icon=":material/warning:")
    if target is not None:
        st.caption(":material/link: Each line has the booking's links: the client's (anonymous join when the service "
                   "allows it) and the staff member's Teams link.")
    results.table_and_downloads(outcome_store["outcomes"], outcome_store["invalid"])
    failed = [o for o in outcome_store["outcomes"] if o.status == "failed"]
    if failed and not running and st.button(f"Retry failed ({len(failed):,})", icon=":material/replay:"):
        bulk_session.start_run(name, source_id, [o.appointment for o in failed], [], retry=True, target=target)
        st.rerun()
    if target is not None:
        st.info(bulk_job.bookings_email_note(target), icon=":material/mail:")
    else:
        notify_step.render(outcome_store["outcomes"], running=running)
elif not running:
    st.caption("The results appear here: one line per row, with the links to send to each client.")
