"""Home: what the app does, and two big doors."""

import streamlit as st

from lib.spreadsheet.samples import sample_clients_csv
from ui import messages, navigation

navigation.through_navigation()

messages.header("Appointment Studio",
                "Turn a spreadsheet of clients into Microsoft Teams virtual appointments, "
                "and get every join link back in one table.")

bulk, design = st.columns(2, gap="large")
with bulk.container(border=True, height="stretch"):
    st.subheader(":material/table_view: Create from a spreadsheet")
    st.write("Upload a CSV or Excel file of clients. The app matches the columns, fills in times, "
             "checks every row, then creates all the appointments with their join links.")
    if st.button("Create from a spreadsheet", type="primary", icon=":material/upload_file:", width="stretch"):
        st.switch_page("pages/bulk.py")
    if st.button("Try with sample clients", icon=":material/group:", width="stretch",
                 help="Fills the spreadsheet page with a realistic list of clients."):
        st.session_state["bulk_source"] = {"name": "sample-clients.csv", "data": sample_clients_csv()}
        st.switch_page("pages/bulk.py")
with design.container(border=True, height="stretch"):
    st.subheader(":material/design_services: Design one appointment")
    st.write("Set every field of one appointment and watch the exact Microsoft Graph requests update "
             "as you type, with code to copy. Send it and see the response and the join links.")
    if st.button("Design one appointment", icon=":material/edit_calendar:", width="stretch"):
        st.switch_page("pages/designer.py")

st.divider()
left, middle, right = st.columns(3)
left.markdown("**1 · Upload** your list  \nCSV or Excel, any column names.")
middle.markdown("**2 · Check** every row  \nFix typos in place before anything is sent.")
right.markdown("**3 · Create**  \nOne click; links to share with every client.")
