"""Local twin of Microsoft Graph (Teams online meetings, virtual appointments) and of the Microsoft
identity platform, served over HTTPS with a local CA.

Run it with `python -m lib sandbox ...` (or `python -m lib.sandbox ...`), or from Python with
`start_sandbox_process(data_dir)`.
"""
from .process import SandboxProcess, SandboxStartError, start_sandbox_process

__all__ = ["SandboxProcess", "SandboxStartError", "start_sandbox_process"]
