"""The one Streamlit internal the app uses (ui/navigation.py): fails loudly when an upgrade changes it."""

from __future__ import annotations

import inspect

from streamlit.testing.v1 import AppTest

from tests.app.driver import ROOT, assert_clean, texts


def test_streamlit_still_has_the_class_attribute_the_first_visit_fix_flips():
    from streamlit.commands import navigation
    from streamlit.runtime.pages_manager import PagesManager

    assert "uses_pages_directory" in vars(PagesManager), (
        "Streamlit no longer has PagesManager.uses_pages_directory: ui/navigation.py must be redone for this "
        "version (see its docstring), and requirements.txt's streamlit bound moved with it.")
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation), (
        "st.navigation no longer sets PagesManager.uses_pages_directory: check ui/navigation.py.")


def test_a_page_opened_on_its_own_runs_inside_the_apps_navigation():
    """A first visit straight to /bulk: the page script runs first; it must show the app, not a bare page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/bulk.py")  # before app.py ever ran: Streamlit runs the page script by itself
    at.run()
    assert_clean(at)
    assert "Bulk from spreadsheet" in texts(at)
    said = [str(m.value) for m in at.sidebar.get("markdown")] + [str(c.value) for c in at.sidebar.get("caption")]
    assert any("Connection:" in s for s in said), said  # app.py's sidebar: it ran


def test_the_streamlit_pin_matches_the_tested_minor_series():
    import streamlit

    wanted = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("streamlit"))
    major, minor = streamlit.__version__.split(".")[:2]
    assert wanted == f"streamlit>={major}.{minor},<{major}.{int(minor) + 1}", wanted
