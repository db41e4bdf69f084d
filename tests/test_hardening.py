"""Hostile and broken input: every problem is a clear error about one task, never a crash or a hang.

Model-free: nothing here imports torch.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from arcttt.core.errors import ArcError, printable
from arcttt.core.tasks import (MAX_DEMONSTRATIONS, load_solutions, load_source, read_id_list, safe_name, select)
from test_tasks import make_task, write


# --- one bad task never stops a folder ------------------------------------------------------------

def folder_with(tmp_path, name: str, content) -> object:
    """A folder with one good task `good.json` and one more file."""
    write(tmp_path / "good.json", make_task())
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write(path, content)
    return load_source(tmp_path)


@pytest.mark.parametrize("name, content, reason", [
    ("null.json", {"train": [{"input": [[1]], "output": None}], "test": [{"input": [[1]]}]},
     "field train[0].output: null"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("digits.json", '{"train": [{"input": [[' + "7" * 5000 + ']], "output": [[1]]}], "test": [{"input": [[1]]}]}',
     "not an ARC file"),
    ("many.json", make_task(n_train=MAX_DEMONSTRATIONS + 1), f"at most {MAX_DEMONSTRATIONS}"),
    ("tests.json", make_task(n_test=21), "at most 20"),
])
def test_a_bad_file_is_one_error_and_the_others_load(tmp_path, name, content, reason):
    taskset = folder_with(tmp_path, name, content)
    assert [t.id for t in taskset.tasks] == ["good"]
    (error,) = taskset.errors
    assert str(error).startswith(str(tmp_path / name)) and reason in str(error), str(error)


def test_a_utf8_file_with_a_byte_order_mark_is_a_task(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(make_task()).encode())
    (task,) = load_source(path).tasks
    assert task.id == "bom" and len(task.train) == 2


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses non-UTF-8 file names")
def test_a_file_name_that_is_not_utf8_is_a_clear_error(tmp_path):
    write(tmp_path / "good.json", make_task())
    (tmp_path / os.fsdecode(b"bad\xff.json")).write_text(json.dumps(make_task()))
    taskset = load_source(tmp_path)
    (error,) = taskset.errors
    assert [t.id for t in taskset.tasks] == ["good"]
    assert "not valid UTF-8" in str(error) and "bad\\udcff" in str(error)
    str(error).encode("utf-8")  # printable: no lone surrogate left to crash a terminal


@pytest.mark.parametrize("task_id, reason", [
    ("", "empty"), (" ", "empty"), ("x" * 300, "300 characters"), ("a\x1b[31mb", "control characters"),
])
def test_unusable_ids_in_a_challenges_file_are_errors(tmp_path, task_id, reason):
    path = write(tmp_path / "c.json", {"ok": make_task(), task_id: make_task()})
    taskset = load_source(path)
    assert [t.id for t in taskset.tasks] == ["ok"]
    (error,) = taskset.errors
    assert f"unusable task id: {reason}" in str(error) and "\x1b" not in str(error)


def test_task_ids_map_to_safe_distinct_folder_names():
    ids = ["00576224", "..", "../..", "/abs/path", "a/b", ".", "x" * 300, "ABC", "abc", "_abc", "a\\b", "-x"]
    names = [safe_name(t) for t in ids]
    assert len(set(names)) == len(ids)
    assert names[0] == "00576224" and names[ids.index("abc")] == "abc"
    for name in names:
        assert "/" not in name and "\\" not in name and name not in (".", "..", "") and len(name) <= 100
        assert name == name.lower()  # no collision on case-insensitive file systems


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_a_folder_is_not_opened(tmp_path):
    write(tmp_path / "good.json", make_task())
    os.mkfifo(tmp_path / "pipe.json")  # opening it for reading would block forever
    taskset = load_source(tmp_path)
    assert [t.id for t in taskset.tasks] == ["good"]
    (error,) = taskset.errors
    assert "not a regular file" in str(error)


def test_a_file_above_the_size_limit_is_refused(tmp_path, monkeypatch):
    import arcttt.core.tasks

    monkeypatch.setattr(arcttt.core.tasks, "MAX_FILE_BYTES", 100)
    path = write(tmp_path / "big.json", make_task(n_train=10))
    with pytest.raises(ArcError, match="big.json: .* bytes; task files are read up to"):
        load_source(path)


def test_duplicate_ids_in_tasks_are_solved_once(tmp_path):
    path = write(tmp_path / "c.json", {"a": make_task(), "b": make_task()})
    assert read_id_list("b,a,b, a") == ["b", "a"]
    assert [t.id for t in select(load_source(path), "b,a,b")] == ["b", "a"]
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"\xef\xbb\xbfa\nb # second\na\n")
    assert read_id_list(f"@{ids}") == ["a", "b"]


def test_solutions_with_an_unreadable_task_are_an_error_not_a_smaller_denominator(tmp_path):
    write(tmp_path / "a.json", make_task())
    write(tmp_path / "b.json", {"train": "broken"})
    with pytest.raises(ArcError, match="1 task\\(s\\) of the solutions cannot be read"):
        load_solutions(str(tmp_path))


def test_printable_escapes_control_characters_and_bad_bytes():
    assert printable("ok é") == "ok é"
    assert printable("a\x1b[2Jb\udcff\x07") == "a\\x1b[2Jb\\udcff\\x07"


# --- the terminal: user text is never markup, never control sequences ---------------------------

def test_ids_that_look_like_markup_are_printed_as_they_are(tmp_path):
    from typer.testing import CliRunner

    from arcttt.cli import app
    from arcttt.core.predictions import write_predictions

    ids = ["[/x]", "[bold red]y"]
    challenges = write(tmp_path / "c_challenges.json", {i: make_task() for i in ids})
    write(tmp_path / "c_solutions.json", {i: [[[0, 4]]] for i in ids})
    predictions = tmp_path / "p.json"
    write_predictions(predictions, {"[/x]": ((((0, 4),), ((0, 4),)),), "\x1b[2Jevil": ((((1,),), ((1,),)),)})
    runner = CliRunner()
    scored = runner.invoke(app, ["score", str(predictions), "--solutions", challenges])
    assert scored.exit_code == 0, scored.output  # "[/x]" used to raise MarkupError
    assert "[/x]" in scored.stdout and "[bold red]y" in scored.stdout
    assert "\x1b" not in scored.stderr and "\\x1b[2Jevil" in scored.stderr
    shown = runner.invoke(app, ["show", "[bold red]y", "--source", challenges])
    assert shown.exit_code == 0, shown.output
    assert "[bold red]y: 2 demonstrations" in shown.stdout
