"""Shared fixtures: an isolated data folder for every test session and real sandboxes over HTTPS."""

from __future__ import annotations

import os
from pathlib import Path

import pytest



@pytest.fixture(scope="session", autouse=True)
def studio_home(tmp_path_factory) -> Path:
    """APPOINTMENT_STUDIO_HOME for the whole run: a fresh temporary folder."""
    home = tmp_path_factory.mktemp("studio-home")
    previous = os.environ.get("APPOINTMENT_STUDIO_HOME")
    os.environ["APPOINTMENT_STUDIO_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("APPOINTMENT_STUDIO_HOME", None)
    else:
        os.environ["APPOINTMENT_STUDIO_HOME"] = previous


@pytest.fixture
def checked_on_new_year(monkeypatch):
    """Sheets are checked as on 1 January 2027, so fixture files keep their fixed dates (see tests/dates.py)."""
    from tests.dates import CHECKED_ON

    monkeypatch.setattr("lib.spreadsheet.check.utc_now", lambda: CHECKED_ON)
    return CHECKED_ON


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """One sandbox process (auto-approving device codes) shared by the whole session."""
    from lib.sandbox.process import start_sandbox_process

    proc = start_sandbox_process(tmp_path_factory.mktemp("sandbox"), auto_approve=True)
    yield proc
    proc.stop()


@pytest.fixture
def fresh_sandbox(tmp_path):
    """A sandbox of the test's own, for tests that change faults, latency or rate limits."""
    from lib.sandbox.process import start_sandbox_process

    proc = start_sandbox_process(tmp_path / "sandbox", auto_approve=True)
    yield proc
    proc.stop()
