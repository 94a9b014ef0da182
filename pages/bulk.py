"""Bulk from spreadsheet: upload, match columns, schedule, check, create — one step after another."""

import hashlib
from datetime import date, datetime, time, timedelta

import streamlit as st

from lib.screens import check_grid as grid
from lib.model.appointment import ModelError
from lib.screens.appointments_view import with_when
from lib.screens.background import BackgroundRun
from lib.screens.designer import preview
from lib.bulk.export import to_csv_bytes, to_xlsx_bytes
from lib.model.flows import plan
from lib.spreadsheet.columns import FIELD_BY_KEY, FIELDS, auto_map, mapping_key, missing_required
from lib.bulk.results import COLUMNS, result_rows
from lib.bulk.runner import Runner
from lib.spreadsheet.samples import sample_clients_csv, template_csv, template_xlsx
from lib.spreadsheet.schedule import Schedule
from lib.spreadsheet.read import SpreadsheetError, read_table
from lib.model.timezones import COMMON_ZONES
from lib.spreadsheet.check import check_sheet
from ui import messages, state

state.through_navigation()

PAGE_ROWS = 1000  # rows per page of the check grid; a 10,000-row file is ten pages, never 10,000 widgets
NOT_IN_FILE = "— not in the file —"


@st.cache_data(show_spinner="Reading the file…", max_entries=6)
def read(data: bytes, name: str, sheet: str | None):
    return read_table(data, name, sheet=sheet)


# The report holds thousands of appointments and is never changed: cache_resource hands back the same
# object instead of unpickling a copy on every rerun (0.2 s for 10,000 rows).
@st.cache_resource(show_spinner="Checking every row…", max_entries=6)
def check(data: bytes, name: str, sheet: str | None, mapping: tuple, schedule: tuple, edits: tuple,
          organizer: str, zone: str):
    """Validate the (edited) sheet; returns the report, the check grid and the timeline, all cached together."""
    table = grid.apply_edits(read_table(data, name, sheet=sheet), {n: dict(c) for n, c in edits})
    start, duration, gap, tz, subject, hours, weekdays = schedule
    plan_ = Schedule(start=start, duration=duration, gap=gap, tz=tz, subject=subject, hours=hours,
                     weekdays_only=weekdays)
    report = check_sheet(table, dict(mapping), plan_, organizer=organizer)
    return report, grid.check_frame(report, table, dict(mapping), zone=zone), grid.timeline_frame(report, zone=zone)


def use_source(name: str, data: bytes | str) -> None:
    """A new file: forget the previous file's sheet choice, edits and results."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    st.session_state["bulk_source"] = {"name": name, "data": data}
    for key in ("bulk_sheet", "bulk_edits", "bulk_results", "bulk_job"):
        st.session_state.pop(key, None)


def on_upload() -> None:
    upload = st.session_state.get("upload_bulk")
    if upload is not None:
        use_source(upload.name, upload.getvalue())


def on_sample() -> None:
    use_source("sample-clients.csv", sample_clients_csv())


messages.header("Bulk from spreadsheet", "Upload your list of clients; check it; create every appointment "
                                         "with one click.")
if "bulk_source" in st.session_state and isinstance(st.session_state["bulk_source"].get("data"), str):
    use_source(st.session_state["bulk_source"]["name"], st.session_state["bulk_source"]["data"])
profile = state.profile()

# -- 1 · Upload ---------------------------------------------------------------------------------------
st.subheader("1 · Upload")
drop, extras = st.columns([3, 2], gap="large")
drop.file_uploader("CSV or Excel file", type=["csv", "txt", "tsv", "xlsx", "xlsm"], key="upload_bulk",
                   on_change=on_upload, help="The first row should hold column names; any names will do.")
with extras:
    st.button("Try with sample clients", on_click=on_sample, icon=":material/group:", width="stretch")
    template_a, template_b = st.columns(2)
    template_a.download_button("Template (CSV)", template_csv(), "appointments-template.csv", "text/csv",
                               icon=":material/download:", width="stretch", on_click="ignore")
    template_b.download_button("Template (Excel)", template_xlsx(), "appointments-template.xlsx",
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               icon=":material/download:", width="stretch", on_click="ignore")

source = st.session_state.get("bulk_source")
if not source:
    messages.empty_state("Drop a CSV or Excel file with one client per row: a name, an email or a mobile number, "
                         "and optionally a date and time. No file at hand? **Try with sample clients** or start "
                         "from a template.", icon=":material/upload_file:")
    st.stop()

data, name = source["data"], source["name"]
try:
    sheet = read(data, name, st.session_state.get("bulk_sheet"))
except SpreadsheetError as exc:
    messages.show_error(exc, what=f"{name} cannot be used")
    st.stop()
if len(sheet.sheet_names) > 1:
    if st.session_state.get("bulk_sheet") not in sheet.sheet_names:
        st.session_state["bulk_sheet"] = sheet.sheet_name if sheet.sheet_name in sheet.sheet_names else sheet.sheet_names[0]
    st.selectbox("Sheet", sheet.sheet_names, key="bulk_sheet",
                 help="This workbook has several sheets; pick the one with the clients.")
    sheet = read(data, name, st.session_state.get("bulk_sheet"))
details = [f"{len(sheet.rows):,} rows", f"{len(sheet.headers)} columns"]
if sheet.sheet_name:
    details.append(f"sheet “{sheet.sheet_name}”")
if sheet.encoding:
    details.append(f"encoding {sheet.encoding}")
if sheet.delimiter:
    details.append("delimiter " + {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(sheet.delimiter, repr(sheet.delimiter)))
st.markdown(f":material/description: **{name}** — " + " · ".join(details))
st.caption("The first rows, exactly as read. Odd characters or everything in one column mean the file was "
           "read wrongly; save it as CSV UTF-8 or Excel and upload it again.")
st.dataframe(grid.first_rows(sheet), hide_index=True, width="stretch")
source_id = hashlib.sha256(data).hexdigest()[:16] + f":{sheet.sheet_name or ''}"

# -- 2 · Match columns ----------------------------------------------------------------------------------
st.subheader("2 · Match columns")
remembered = st.session_state.setdefault("bulk_mappings", {})
shape = mapping_key(sheet.headers)
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


questions = missing_required(mapping)
for question in questions:
    st.warning(question, icon=":material/help:")
found = [f.key for f in FIELDS if mapping.get(f.key) or f.required]
cells = st.columns(4)
for i, key in enumerate(found):
    field_picker(cells[i % 4], key)
with st.expander("Fields not in this file"):
    rest = [f.key for f in FIELDS if f.key not in found]
    cells = st.columns(4)
    for i, key in enumerate(rest):
        field_picker(cells[i % 4], key)
remembered[shape] = dict(mapping)
questions = missing_required(mapping)
if questions:
    st.info("Pick the column for each question above to go on.", icon=":material/arrow_upward:")
    st.stop()

# -- 3 · Schedule -------------------------------------------------------------------------------------------
st.subheader("3 · Schedule")
has_times = bool(mapping.get("start") or mapping.get("date"))
st.caption(("Rows that have no date or time get the next free slot from here." if has_times else
            "This file has no dates or times, so every row gets the next free slot from here."))
zones = list(dict.fromkeys([state.browser_zone(), *COMMON_ZONES]))
st.session_state.setdefault("bulk_tz", zones[0])
st.session_state.setdefault("bulk_day", date.today() + timedelta(days=1))
st.session_state.setdefault("bulk_time", time(9, 0))
st.session_state.setdefault("bulk_duration", 30)
st.session_state.setdefault("bulk_gap", 0)
st.session_state.setdefault("bulk_hours_on", True)
st.session_state.setdefault("bulk_hours", (time(9, 0), time(17, 0)))
st.session_state.setdefault("bulk_weekdays", True)
st.session_state.setdefault("bulk_subject", "Virtual appointment")
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

schedule_args = (datetime.combine(st.session_state["bulk_day"], st.session_state["bulk_time"]),
                 int(st.session_state["bulk_duration"]), int(st.session_state["bulk_gap"]),
                 st.session_state["bulk_tz"], st.session_state["bulk_subject"],
                 tuple(st.session_state["bulk_hours"]) if hours_on else None, bool(st.session_state["bulk_weekdays"]))
edits = st.session_state.setdefault("bulk_edits", {})
if st.session_state.get("bulk_edits_for") != source_id:
    edits.clear()
    st.session_state["bulk_edits_for"] = source_id
shown = st.session_state.get("bulk_shown")
if shown and shown["source"] == source_id:  # fold the grid's cell edits in before checking again
    grid.merge_grid_edits(edits, (st.session_state.get(shown["key"]) or {}).get("edited_rows", {}),
                          shown["rows"], shown["columns"])
organizer = profile.organizer if profile is not None and profile.auth == "client_credentials" else ""
try:
    report, frame, timeline = check(data, name, sheet.sheet_name, tuple(sorted(mapping.items(), key=lambda kv: kv[0])),
                                    schedule_args, grid.edits_key(edits), organizer, schedule_args[3])
except ModelError as exc:
    messages.show_error(exc, what="The schedule cannot be used")
    st.stop()
if len(timeline):
    st.altair_chart(grid.timeline_chart(timeline), width="stretch")
    if len(timeline) < len(report.appointments):
        st.caption(f"The chart shows the first {timeline['date'].nunique()} days ({len(timeline):,} of "
                   f"{len(report.appointments):,} appointments).")

# -- 4 · Check -----------------------------------------------------------------------------------------
st.subheader("4 · Check")
ready, attention = report.ok, report.error
st.markdown(f"**{ready:,} ready**, **{attention:,} need{'s' if attention == 1 else ''} attention**"
            + (" — fix the cells in the table; each change is checked again at once." if attention else " — all good."))
view = frame
if attention:
    st.session_state.setdefault("bulk_filter", "All rows")
    only = st.segmented_control("Show", ["All rows", "Need attention"], key="bulk_filter")
    if only == "Need attention":
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
st.data_editor(
    view, key=editor_key, hide_index=True, width="stretch", num_rows="fixed",
    height=min(560, 38 + 35 * max(1, len(view))),
    disabled=[grid.STATUS, grid.ROW, grid.CLIENT, grid.TIME, grid.PROBLEM],
    column_config={
        grid.STATUS: st.column_config.TextColumn("Status", width=80, pinned=True,
                                                 help="✓ ready · ⚠ ready, with a note to read · ✗ needs a fix"),
        grid.ROW: st.column_config.NumberColumn("Row", width=60, help="The row number in your spreadsheet", format="%d",
                                                pinned=True),
        grid.CLIENT: st.column_config.TextColumn("Client", width="small"),
        grid.TIME: st.column_config.TextColumn(f"Time ({schedule_args[3]})", width="medium"),
        grid.PROBLEM: st.column_config.TextColumn("Problem", width="large" if attention else "small"),
        **{cid: st.column_config.TextColumn(header) for cid, header in columns.items()},
    },
)
problems = [r for r in report.rows if r.status != "ok"]
if problems:
    with st.expander(f"What needs attention, in full ({len(problems):,} row{'s' if len(problems) != 1 else ''})",
                     icon=":material/checklist:", expanded=len(problems) <= 10):
        st.markdown("\n".join(f"- **Row {r.row}** — {grid.problem_text(r)}" for r in problems[:50]))
        if len(problems) > 50:
            st.caption(f"… and {len(problems) - 50:,} more: choose “Need attention” above to see them all in the table.")
st.session_state["bulk_shown"] = {"source": source_id, "key": editor_key, "rows": shown_rows,
                                  "columns": columns}

with st.expander("Preview the exact requests for a row", icon=":material/code:"):
    first = int(frame[grid.ROW].iloc[0]) if len(frame) else 2
    last = int(frame[grid.ROW].iloc[-1]) if len(frame) else 2
    if not first <= st.session_state.get("bulk_preview_row", 0) <= max(first, last):
        st.session_state["bulk_preview_row"] = first
    wanted = st.number_input("Row", first, max(first, last), key="bulk_preview_row")
    chosen = next((r for r in report.rows if r.row == wanted), None)
    if chosen is None:
        st.caption("No such row in the file.")
    elif chosen.appointment is None:
        st.error(f"Row {wanted} needs attention first: {grid.problem_text(chosen)}", icon=":material/error:")
    elif profile is not None:
        steps = plan(chosen.appointment, state.flow(), user_path=state.user_path(chosen.appointment.organizer))
        for number, request in enumerate(preview(steps, profile.graph_base_url), start=1):
            st.markdown(f"**{number}. {request.title}**")
            st.code(request.as_text(), language="http", wrap_lines=True)

# -- 5 · Create -----------------------------------------------------------------------------------------
st.subheader("5 · Create")
job = st.session_state.get("bulk_job")
results = st.session_state.get("bulk_results")
if results and results.get("source") != source_id:
    results = None
invalid = [(r.row, "; ".join(r.errors)) for r in report.rows if r.status != "ok"]


def start_run(appointments: list, invalid_rows: list, retry: bool) -> None:
    try:
        runner = Runner(state.client(), state.journal(), flow=state.flow(), concurrency=8)
        st.session_state["bulk_quota"] = runner.quota_warnings(appointments)  # Graph's 2,000 a month per organizer
        st.session_state["bulk_job"] = {"run": BackgroundRun(runner, appointments, source=name,
                                                             invalid_rows=invalid_rows).start(),
                                        "source": source_id, "retry": retry, "invalid": invalid_rows}
    except Exception as exc:  # AuthError / GraphError: say why nothing started
        st.session_state["bulk_start_error"] = exc


if job and job["run"].done and not job.get("collected"):  # a finished run: keep its outcomes
    run = job["run"]
    job["collected"] = True
    if run.error is not None:
        st.session_state["bulk_start_error"] = run.error
    else:
        outcomes = list(run.result.outcomes)
        if job["retry"] and results:
            by_key = {o.key: o for o in outcomes}
            outcomes = [by_key.get(o.key, o) for o in results["outcomes"]]
        results = {"source": job["source"], "outcomes": outcomes, "invalid": job["invalid"] if not job["retry"]
                   else results["invalid"], "cancelled": run.result.cancelled}
        st.session_state["bulk_results"] = results
running = bool(job and not job["run"].done)

count = len(report.appointments)
if attention:
    st.caption(f"{attention:,} row{'s' if attention != 1 else ''} that need attention will be skipped and listed "
               "in the results; fix them above to include them.")
if st.button(f"Create {count:,} appointment{'s' if count != 1 else ''}", type="primary", icon=":material/rocket_launch:",
             disabled=running or count == 0 or profile is None):
    st.session_state.pop("bulk_start_error", None)
    start_run(report.appointments, invalid, retry=False)
    st.rerun()
if error := st.session_state.get("bulk_start_error"):
    messages.show_error(error, what="Nothing was created")
for warning in st.session_state.get("bulk_quota", []) if job else []:
    st.warning(warning, icon=":material/warning:")


@st.fragment(run_every=0.5)
def progress_panel() -> None:
    current = st.session_state.get("bulk_job")
    if not current or current.get("collected"):
        return
    run = current["run"]
    if run.done:
        st.rerun(scope="app")
    p = run.progress
    total = p.total or run.total
    left = f"about {p.seconds_left:.0f} s left" if p.seconds_left else "estimating time left…"
    st.progress(p.done / total if total else 0.0,
                text=f"{p.done:,} of {total:,} done · {p.created + p.existing:,} ready · {p.failed:,} failed · {left}")
    if run.cancelling:
        st.caption("Cancelling: finishing the requests already sent…")
    elif st.button("Cancel", icon=":material/cancel:"):
        run.cancel()


if running:
    progress_panel()

if results:
    rows = result_rows(results["outcomes"], results["invalid"])
    outcomes = results["outcomes"]
    created = sum(o.status == "created" for o in outcomes)
    existing = sum(o.status == "existing" for o in outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    linked = sum(bool(o.client_join_web_url or o.join_web_url) for o in outcomes if o.status != "failed")
    parts = [f"{created:,} created"]
    if existing:
        parts.append(f"{existing:,} already existed (not sent again)")
    if failed:
        parts.append(f"{len(failed):,} failed")
    if results["invalid"]:
        parts.append(f"{len(results['invalid']):,} skipped (need attention)")
    summary = " · ".join(parts)
    if failed or results.get("cancelled"):
        st.warning(summary + (" — the run was cancelled." if results.get("cancelled") else "."),
                   icon=":material/warning:")
    else:
        st.success(f"{summary}. Every appointment has its join link ({linked:,}).", icon=":material/task_alt:")
    st.dataframe(
        with_when(rows), hide_index=True, width="stretch", key="bulk_results_table",
        column_order=["row", "status", "clients", "when", "clientJoinWebUrl", "joinWebUrl", "error", "subject",
                      "externalAppointmentId", "onlineMeetingId", "requestId"],
        column_config={
            "row": st.column_config.NumberColumn("Row", width=60, format="%d"),
            "status": st.column_config.TextColumn("Status", width="small"),
            "clients": st.column_config.TextColumn("Client"),
            "when": st.column_config.TextColumn("When"),
            "subject": st.column_config.TextColumn("Subject"),
            "externalAppointmentId": st.column_config.TextColumn("Appointment id"),
            "onlineMeetingId": st.column_config.TextColumn("Meeting id"),
            "requestId": st.column_config.TextColumn("request-id"),
            "clientJoinWebUrl": st.column_config.LinkColumn("Client join link"),
            "joinWebUrl": st.column_config.LinkColumn("Organizer join link"),
            "error": st.column_config.TextColumn("Problem", width="large"),
        },
    )
    csv_col, xlsx_col, retry_col = st.columns([1, 1, 2])
    table = [[r[c] for c in COLUMNS] for r in rows]
    # Made when clicked, not on every rerun: an Excel file of 10,000 rows takes seconds to write.
    csv_col.download_button("Download CSV", lambda: to_csv_bytes(COLUMNS, table), "RESULTS.csv", "text/csv",
                            icon=":material/download:", width="stretch", on_click="ignore")
    xlsx_col.download_button("Download Excel", lambda: to_xlsx_bytes(COLUMNS, table), "RESULTS.xlsx",
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             icon=":material/download:", width="stretch", on_click="ignore")
    if failed and not running and retry_col.button(f"Retry failed ({len(failed):,})", icon=":material/replay:"):
        start_run([o.appointment for o in failed], [], retry=True)
        st.rerun()
elif not running:
    st.caption("The results appear here: one line per row, with the links to send to each client.")
