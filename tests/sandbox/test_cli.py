"""The command line: flag validation (exit 2, one line, no traceback) and `python -m lib.sandbox`."""
from __future__ import annotations

import subprocess
import sys

import pytest

from lib.sandbox.cli import main
from lib.sandbox.process import REPO_ROOT

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("argv", [["--port", "x"], ["--port", "70000"], ["--latency", "fast"],
                                  ["--latency", "150-50"], ["--rate-limit", "0"], ["--rate-limit", "many"],
                                  ["--faults", "429"], ["--faults", "418=0.1"], ["--faults", "429=1.5"],
                                  ["--faults", "429=0.6,503=0.6"], ["--seed", "x"], ["--bogus"]])
def test_invalid_flags_exit_2_with_one_line(argv, capsys, tmp_path):
    assert main(argv + ["--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "--rate-limit" in capsys.readouterr().out


def test_module_entry_point_rejects_bad_flags_without_traceback():
    r = subprocess.run([sys.executable, "-m", "lib.sandbox", "--latency", "nope"], cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_port_in_use_is_reported(sb, tmp_path):
    port = sb.url.rsplit(":", 1)[1]
    r = subprocess.run([sys.executable, "-m", "lib.sandbox", "--port", port, "--data", str(tmp_path)],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "cannot listen" in r.stderr and "Traceback" not in r.stderr
