"""Work on a thread of its own (lib/screens/background.py)."""

from __future__ import annotations

import threading

from lib.screens.background import BackgroundTask


def test_a_background_task_keeps_its_error_for_the_page():
    task = BackgroundTask(lambda: 1 / 0).start()
    assert task.wait(5) and isinstance(task.error, ZeroDivisionError)
    release = threading.Event()
    slow = BackgroundTask(lambda: release.wait(5) and "done").start()
    assert not slow.done
    release.set()
    assert slow.wait(5) and slow.result == "done"
