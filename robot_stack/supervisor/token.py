"""The per-run bearer token: generated fresh, stored 0600 in the run folder, printed once.

The file is created with `os.open(..., O_CREAT | O_EXCL, 0o600)` (after removing an old one), so
it is never readable by others, not even for a moment, and a symlink planted at its path is
not followed.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_FILE = "supervisor.token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_token(run_dir: Path, token: str) -> Path:
    """Write `token` to `<run_dir>/supervisor.token` with mode 0600 and return the path."""
    path = Path(run_dir) / TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask said
        os.write(fd, (token + "\n").encode())
    finally:
        os.close(fd)
    return path


def read_token(run_dir: Path) -> str:
    return (Path(run_dir) / TOKEN_FILE).read_text().strip()


def issue_token(run_dir: Path | None) -> tuple[str, Path | None]:
    """A fresh token, written to the run folder when there is one."""
    token = new_token()
    return token, (write_token(run_dir, token) if run_dir is not None else None)
