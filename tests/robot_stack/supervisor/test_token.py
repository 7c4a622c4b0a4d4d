"""The per-run token file: 0600 from creation, replaced each run, symlinks not followed."""
from __future__ import annotations

import os
import stat

import pytest

from robot_stack.supervisor.token import TOKEN_FILE, issue_token, read_token, write_token

pytestmark = pytest.mark.unit


def test_token_file_is_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        token, path = issue_token(tmp_path)
    finally:
        os.umask(old)
    assert path == tmp_path / TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_token(tmp_path) == token and len(token) >= 32


def test_each_run_gets_a_new_token_and_the_old_file_is_replaced(tmp_path):
    (tmp_path / TOKEN_FILE).write_text("old")
    os.chmod(tmp_path / TOKEN_FILE, 0o644)
    t1, _ = issue_token(tmp_path)
    t2, path = issue_token(tmp_path)
    assert t1 != t2 and read_token(tmp_path) == t2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symlink_at_the_token_path_is_not_written_through(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / TOKEN_FILE).symlink_to(target)
    write_token(tmp_path / "run", "secret")
    assert target.read_text() == "keep"
    assert not (tmp_path / "run" / TOKEN_FILE).is_symlink()


def test_no_run_dir_no_file():
    token, path = issue_token(None)
    assert token and path is None
