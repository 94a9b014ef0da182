"""`python -m lib sandbox [...]`: run the local Graph + identity platform in the foreground."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .directory import APPLICATION_PERMISSIONS, DELEGATED_PERMISSIONS
from .faults import SettingError, parse_faults, parse_latency, parse_rate_limit, parse_seed


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m lib sandbox",
                description="Local HTTPS twin of Microsoft Graph (Teams meetings, virtual appointments) "
                            "and the Microsoft identity platform.")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", default="8765", help="port (default 8765; 0 picks a free port)")
    p.add_argument("--data", metavar="DIR", help="data folder (default: per-user data folder /sandbox)")
    p.add_argument("--latency", metavar="MS|MIN-MAX", help="added delay per Graph response, in milliseconds")
    p.add_argument("--rate-limit", metavar="N", help="at most N Graph requests per second per client app")
    p.add_argument("--faults", metavar="SPEC", help="e.g. 429=0.05,503=0.05,504=0.01,reset=0.01,lost=0.03")
    p.add_argument("--seed", metavar="N", help="seed for repeatable latency, fault and batch-order draws")
    p.add_argument("--auto-approve", action="store_true", help="approve device-code sign-ins at once")
    p.add_argument("--permissions-of", metavar="app|user=NAME,NAME", action="append", default=[],
                   help="start with only these permissions for the daemon app (app=) or the signed-in user's "
                        "public client (user=), to try a missing consent; repeatable")
    return p


def parse_permissions_of(values: list[str]) -> dict[str, tuple[str, ...]]:
    """`app=NAME,NAME` / `user=NAME,NAME` (repeatable; empty list allowed) → {"app"|"user": names}."""
    known = {"app": APPLICATION_PERMISSIONS, "user": DELEGATED_PERMISSIONS}
    out: dict[str, tuple[str, ...]] = {}
    for value in values:
        who, sep, names = value.partition("=")
        who = who.strip().lower()
        if not sep or who not in known:
            raise SettingError(f"--permissions-of: expected app=NAME,NAME or user=NAME,NAME, got {value!r}")
        listed = tuple(n.strip() for n in names.split(",") if n.strip())
        unknown = [n for n in listed if n not in known[who]]
        if unknown:
            kind = "an application" if who == "app" else "a delegated"
            raise SettingError(f"--permissions-of: {', '.join(unknown)} is not {kind} permission the sandbox "
                               f"knows; use some of {', '.join(sorted(known[who]))}")
        out[who] = out.get(who, ()) + listed
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until interrupted; returns the process exit code."""
    from .server import configure_logging, default_data_dir, serve

    try:
        args = _parser().parse_args(argv)
        try:
            port = int(args.port)
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise SettingError(f"--port: expected a number from 0 to 65535, got {args.port!r}")
        if not args.host.strip():
            raise SettingError("--host: must not be empty")
        latency = parse_latency(args.latency)
        rate_limit = parse_rate_limit(args.rate_limit) if args.rate_limit is not None else None
        if args.rate_limit is not None and rate_limit is None:
            raise SettingError(f"--rate-limit: expected a whole number >= 1, got {args.rate_limit!r}")
        faults = parse_faults(args.faults)
        seed = parse_seed(args.seed)
        permissions_of = parse_permissions_of(args.permissions_of)
        data_dir = Path(args.data).expanduser() if args.data else default_data_dir()
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as e:
            raise SettingError(f"--data: cannot use {str(data_dir)!r}: {e.strerror or e}") from None
    except (SettingError, _UsageError) as e:
        print(f"error: {e}" if isinstance(e, SettingError) else str(e), file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)

    configure_logging()
    try:
        asyncio.run(serve(data_dir.resolve(), args.host, port, auto_approve=args.auto_approve,
                          latency=args.latency if latency else None, rate_limit=rate_limit,
                          faults=faults, seed=seed, permissions_of=permissions_of or None))
    except OSError as e:
        print(f"error: cannot listen on {args.host}:{port}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
