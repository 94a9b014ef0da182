"""The one place the app leans on a Streamlit internal: a first visit straight to a page's URL.

Streamlit treats a folder named ``pages`` as old-style pages until ``st.navigation`` has run once in
the process (AppTest starts every run that way too); a first visit straight to ``/bulk`` would then
run the page on its own, without app.py: no wide layout, no shared state, every file listed. The
fix flips ``PagesManager.uses_pages_directory`` and runs app.py, which shows this same page inside its
navigation. ``tests/app/test_navigation.py`` fails loudly when a Streamlit upgrade changes this;
requirements.txt pins the minor series it was tested with.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parent.parent / "app.py"


def through_navigation() -> None:
    """Make sure the page runs inside app.py's navigation (same run, so a click that started it is kept)."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()
