"""Run a sandbox in a child process (tests, benchmarks, the Streamlit app) and talk to its inspection API."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]


class SandboxStartError(RuntimeError):
    """The sandbox process exited or stayed silent before it was ready."""


class SandboxProcess:
    """A running `python -m lib.sandbox` child: its URL, CA bundle, profiles and inspection calls."""

    def __init__(self, proc: subprocess.Popen, data_dir: Path, profile: dict[str, Any], stderr_tail: deque):
        self.proc = proc
        self.data_dir = data_dir
        self.profile = profile
        self.url: str = profile["graph_base_url"]
        self.ca_path: str = profile["ca_bundle"]
        self.profile_path = data_dir / "connection.json"
        self.app_profile_path = data_dir / "connection-app.json"
        self._stderr_tail = stderr_tail
        self._http = requests.Session()
        self._http.trust_env = False   # REQUESTS_CA_BUNDLE would otherwise override verify
        self._http.verify = self.ca_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def app_profile(self) -> dict[str, Any]:
        return json.loads(self.app_profile_path.read_text())

    @property
    def stderr(self) -> str:
        """The last lines the sandbox wrote to stderr."""
        return "".join(self._stderr_tail)

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        r = self._http.request(method, self.url + path, json=body, timeout=10)
        if r.status_code >= 400:
            raise ValueError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json()

    def stats(self) -> dict[str, Any]:
        """`GET /_sandbox/stats`."""
        return self._call("GET", "/_sandbox/stats")

    def meetings(self) -> list[dict[str, Any]]:
        """The `value` of `GET /_sandbox/meetings`."""
        return self._call("GET", "/_sandbox/meetings")["value"]

    def bookings(self) -> dict[str, Any]:
        """`GET /_sandbox/bookings`: the businesses (services, staff, customers, appointments) """
        return self._call("GET", "/_sandbox/bookings")

    def mail(self) -> list[dict[str, Any]]:
        """The `value` of `GET /_sandbox/mail`: every message sent, oldest first."""
        return self._call("GET", "/_sandbox/mail")["value"]

    def events(self) -> list[dict[str, Any]]:
        """The `value` of `GET /_sandbox/events`."""
        return self._call("GET", "/_sandbox/events")["value"]

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change latency, rate_limit, faults, seed, auto_approve (... ) without a restart."""
        return self._call("POST", "/_sandbox/config", settings)

    def reset_counters(self) -> None:
        self._call("POST", "/_sandbox/reset-counters", {})

    def stop(self, timeout: float = 10) -> int:
        """Terminate gracefully and wait; kill if it does not stop in time."""
        self._http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """Kill at once (a crash, as far as the data folder is concerned)."""
        self._http.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_sandbox_process(data_dir: str | os.PathLike, *, port: int = 0, host: str = "127.0.0.1",
                          auto_approve: bool = True, latency: str | int | None = None,
                          rate_limit: int | None = None, faults: str | None = None, seed: int | None = None,
                          env: dict[str, str] | None = None, timeout: float = 30,
                          permissions_of: dict[str, list[str]] | None = None) -> SandboxProcess:
    """Start `python -m lib.sandbox` on `data_dir` and return once it printed its connection profile.
    `permissions_of={"app": [...], "user": [...]}` starts it with only those permissions."""
    data_dir = Path(data_dir).resolve()
    cmd = [sys.executable, "-m", "lib.sandbox", "--data", str(data_dir), "--host", host, "--port", str(port)]
    if auto_approve:
        cmd.append("--auto-approve")
    for flag, value in (("--latency", latency), ("--rate-limit", rate_limit), ("--faults", faults),
                        ("--seed", seed)):
        if value is not None:
            cmd += [flag, str(value)]
    for who, names in (permissions_of or {}).items():
        cmd += ["--permissions-of", f"{who}={','.join(names)}"]
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=child_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ready = threading.Event()
    first_line: list[str] = []
    tail: deque = deque(maxlen=200)

    def read_stdout() -> None:
        for line in proc.stdout:
            if not first_line:
                first_line.append(line)
                ready.set()
        ready.set()

    def read_stderr() -> None:
        for line in proc.stderr:
            tail.append(line)

    threading.Thread(target=read_stdout, daemon=True).start()
    threading.Thread(target=read_stderr, daemon=True).start()
    if not ready.wait(timeout) or not first_line:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        raise SandboxStartError(f"The sandbox did not start (exit code {proc.returncode}): "
                                f"{''.join(tail).strip()[-2000:]}")
    try:
        profile = json.loads(first_line[0])
    except ValueError:
        proc.kill()
        raise SandboxStartError(f"Unexpected first line from the sandbox: {first_line[0]!r}") from None
    return SandboxProcess(proc, data_dir, profile, tail)
