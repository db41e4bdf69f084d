"""Records name the code they ran: the commit, marked "+dirty" where the code was edited."""

import shutil
import subprocess

import pytest

from arcttt.run.provenance import git_commit


def git(folder, *args) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_record_made_with_edited_code_says_dirty(tmp_path):
    (tmp_path / "arcttt").mkdir()
    (tmp_path / "arcttt" / "x.py").write_text("X = 1\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    head = git(tmp_path, "rev-parse", "--short", "HEAD")

    assert git_commit(tmp_path) == head
    (tmp_path / "results.jsonl").write_text("{}\n")  # results and docs may change freely
    assert git_commit(tmp_path) == head
    (tmp_path / "arcttt" / "x.py").write_text("X = 2\n")
    assert git_commit(tmp_path) == head + "+dirty"


def test_outside_a_checkout_there_is_no_commit(tmp_path):
    assert git_commit(tmp_path) == ""
