"""The app's own sandbox (lib/screens/embedded_sandbox.py): started once, found again."""

from __future__ import annotations

import json

from lib.screens.embedded_sandbox import ensure_sandbox, find_running


def test_the_embedded_sandbox_is_reused_while_it_answers(tmp_path):
    first = ensure_sandbox(tmp_path / "sandbox")
    try:
        assert first.started_here and first.alive()
        again = ensure_sandbox(tmp_path / "sandbox")
        assert not again.started_here and again.url == first.url
        assert json.loads(again.profile_path.read_text())["cloud"] == "sandbox"
    finally:
        first.stop()
    assert find_running(tmp_path / "sandbox") is None
