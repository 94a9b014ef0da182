"""Driving the app with AppTest: open it, find widgets by what they say, wait for background work."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("pages/home.py", "pages/bulk.py", "pages/designer.py", "pages/appointments.py", "pages/connection.py")


def open_app(page: str | None = None) -> AppTest:
    """The app as a browser would get it: app.py with its navigation, then ``page``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def restart_app(page: str | None = None) -> AppTest:
    """A fresh app process as far as Streamlit knows: caches emptied, a new session."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return open_app(page)


def button(at: AppTest, label_start: str):
    found = [b for b in at.button if b.label.startswith(label_start)]
    assert found, f"no button starting {label_start!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def texts(at: AppTest) -> str:
    """Everything the page says in markdown, captions, alerts and code, as one text."""
    parts = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "code", "title", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def assert_clean(at: AppTest) -> None:
    """No exception reached the page."""
    assert not at.exception, [e.value for e in at.exception]


def wait_until(at: AppTest, condition, timeout: float = 90) -> None:
    """Rerun the page until ``condition(at)`` holds (background work polled by the page)."""
    deadline = time.monotonic() + timeout
    while not condition(at):
        assert time.monotonic() < deadline, "timed out; the page says:\n" + texts(at)
        time.sleep(0.3)
        at.run()
