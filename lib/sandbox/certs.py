"""Local CA and server certificate, created once in the data folder and reused."""
from __future__ import annotations

import json
import os
from pathlib import Path

import trustme

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server-cert.pem"
SERVER_KEY_FILE = "server-key.pem"
SANS_FILE = "server-cert.json"

DEFAULT_NAMES = ("127.0.0.1", "localhost", "::1")


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only (0600), replacing it atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def ensure_certificates(data_dir: Path, host: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """Return (ca.pem, server cert, server key), creating the CA once and the server cert as needed."""
    ca_path, ca_key = data_dir / CA_FILE, data_dir / CA_KEY_FILE
    cert_path, key_path = data_dir / SERVER_CERT_FILE, data_dir / SERVER_KEY_FILE
    if ca_path.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(ca_path.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="Appointment Studio Sandbox")
        write_private(ca_key, ca.private_key_pem.bytes())
        write_public(ca_path, ca.cert_pem.bytes())
        for stale in (cert_path, key_path):
            stale.unlink(missing_ok=True)
    names = list(DEFAULT_NAMES)
    if host not in names and host not in ("0.0.0.0", "::", ""):
        names.append(host)
    sans_path = data_dir / SANS_FILE
    try:
        current = json.loads(sans_path.read_text())
    except (OSError, ValueError):
        current = None
    if not (cert_path.exists() and key_path.exists()) or not isinstance(current, list) \
            or not set(names) <= set(current):
        leaf = ca.issue_cert(*names, common_name="Appointment Studio Sandbox")
        write_private(key_path, leaf.private_key_pem.bytes())
        write_public(cert_path, b"".join(p.bytes() for p in leaf.cert_chain_pems))
        write_public(sans_path, json.dumps(names).encode())
    return ca_path, cert_path, key_path
