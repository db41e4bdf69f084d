"""A two-config leaderboard on a tiny model: records, resume, the table, Markdown and the plot;
the committed records and their rendering; per-config peak memory; suites as package data."""

import fnmatch
import json
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.errors import ArcError
from arcttt.run import leaderboard
from arcttt.run.leaderboard import (COMPACT, SUITES, adapter_name, console_table, load_suite, markdown, peak_memory_mib,
                                    read_records, reset_peak_memory, shown, table_rows)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "leaderboard" / "results.jsonl"
BASELINE = "cpu-icl"  # the Makefile's `leaderboard` target renders LEADERBOARD.md against it

TASKS = {f"lb{i}": {"train": [{"input": [[i]], "output": [[i, i]]}, {"input": [[i + 1]], "output": [[i + 1, i + 1]]}],
                    "test": [{"input": [[i + 2]], "output": [[i + 2, i + 2]]}]} for i in range(1, 4)}


@pytest.fixture
def setup(tmp_path, hub_model_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)  # records name paths inside the working folder relative to it
    folder = tmp_path / "tasks"
    folder.mkdir()
    for task_id, obj in TASKS.items():
        (folder / f"{task_id}.json").write_text(json.dumps(obj))
    suite = tmp_path / "tiny.toml"
    suite.write_text(f'name = "tiny"\nversion = 2\nsource = "{folder}"\ntasks = ["lb1", "lb3"]\n')
    configs = []
    for name, ttt in (("icl", "false"), ("ttt", "true")):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'ttt = {ttt}\nexpert = "ttt"\n[model]\nname = "{hub_model_dir}"\ndevice = "cpu"\n'
                        '[train]\nsteps = 2\ncolours = "none"\n[infer]\nviews = 2\n')
        configs.append(path)
    return tmp_path, suite, configs


def run_leaderboard(tmp_path, suite, configs):
    args = ["leaderboard", "run", "--suite", str(suite), "--results", str(tmp_path / "results.jsonl"),
            "--runs", str(tmp_path / "runs"), "--json", "--fail-on-error"]
    for config in configs:
        args += ["--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_two_configs_give_two_records_and_a_table(setup):
    tmp_path, suite, configs = setup
    icl, ttt = run_leaderboard(tmp_path, suite, configs)
    assert (icl["config"], ttt["config"]) == ("icl", "ttt")
    for record in (icl, ttt):
        assert record["suite"] == "tiny" and record["suite_version"] == 2 and record["tasks"] == 2
        assert 0 <= record["score"] <= 1 and record["outputs_total"] == 2 and record["failed_tasks"] == []
        assert set(record["solved"]) <= {"lb1", "lb3"} and record["seconds_per_task_median"] > 0
        # This config's own peak, in MiB (not KiB or bytes): a process that loaded torch and a model.
        if reset_peak_memory():
            assert 100 <= record["peak_memory_mib"] <= 64 * 1024
        else:
            assert record["peak_memory_mib"] is None
        assert record["peak_memory_window"] == "config" and record["machine"] and record["date"]
        assert record["adapter"] == "" and record["predictions"].startswith("runs/tiny/")  # not absolute
    assert icl["tokens_trained"] == 0 < ttt["tokens_trained"]
    assert icl["ttt_stopped"] == ttt["ttt_stopped"] == 0 and ttt["seconds_saved"] == 0
    assert ttt["seconds_total"] >= 2 * ttt["seconds_per_task_median"] * 0.99 > 0  # two tasks' seconds
    assert icl["config_digest"] != ttt["config_digest"]
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert records == [icl, ttt]

    rows = table_rows(records, baseline="icl")
    assert sorted(row["config"] for row in rows) == ["icl", "ttt"]
    assert [row["Δ"] for row in rows if row["config"] == "ttt"] == [f"{ttt['score'] - icl['score']:+.3f}"]
    result = CliRunner().invoke(app, ["leaderboard", "show", "--results", str(tmp_path / "results.jsonl"),
                                      "--baseline", "icl", "--markdown", str(tmp_path / "LB.md"),
                                      "--plot", str(tmp_path / "lb.png")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "LB.md").read_text()
    assert text == markdown(records, "icl") and "| tiny | ttt |" in text and "| tiny | icl |" in text
    assert (tmp_path / "lb.png").read_bytes()[:4] == b"\x89PNG"


def test_a_second_run_resumes_the_predictions_instead_of_solving_again(setup):
    tmp_path, suite, configs = setup
    first = run_leaderboard(tmp_path, suite, configs[1:])
    log = next((tmp_path / "runs" / "tiny").glob("ttt-*/predictions.log.jsonl"))
    lines = log.read_text()
    second = run_leaderboard(tmp_path, suite, configs[1:])
    assert log.read_text() == lines  # nothing solved twice
    assert second[0]["score"] == first[0]["score"] and second[0]["solved"] == first[0]["solved"]


def test_shipped_suites_load_and_a_bad_suite_is_named(tmp_path):
    assert len(load_suite("cpu-dev").tasks) == 30 and load_suite("arc-agi-1-eval").tasks is None
    assert len(load_suite("cpu-dev-2").tasks) == 30
    assert len(load_suite("cpu-smoke").load()) == 3
    with pytest.raises(ArcError, match="no such suite"):
        load_suite("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n')
    with pytest.raises(ArcError, match="bad.toml: malformed suite"):
        load_suite(str(bad))


def test_configs_that_differ_in_inference_share_the_trained_adapters(setup):
    tmp_path, suite, configs = setup
    ttt = configs[1]
    same = tmp_path / "ttt-again.toml"  # the same training and inference: predictions must match
    same.write_text(ttt.read_text())
    poe = tmp_path / "ttt-poe.toml"
    poe.write_text(ttt.read_text().replace("views = 2\n", 'views = 2\nsampler = "dfs"\nscoring = "poe"\n'))
    args = ["leaderboard", "run", "--suite", str(suite), "--results", str(tmp_path / "results.jsonl"),
            "--runs", str(tmp_path / "runs"), "--json", "--reuse-training"]
    result = CliRunner().invoke(app, [*args, "--config", str(ttt), "--config", str(same), "--config", str(poe)])
    assert result.exit_code == 0, result.output
    trained, again, searched = (json.loads(line) for line in result.stdout.splitlines())
    assert trained["training_reused"] == "" and again["training_reused"] == searched["training_reused"] != ""
    assert trained["tokens_trained"] == again["tokens_trained"] == searched["tokens_trained"] > 0
    assert again["solved"] == trained["solved"] and again["outputs_correct"] == trained["outputs_correct"]
    predictions = [json.loads(open(r["predictions"]).read()) for r in (trained, again)]
    assert predictions[0] == predictions[1]  # loading the saved adapter decodes what training left
    assert searched["oracle"]["outputs"] == 2
    # A second pass resumes every run as it was, the one that trained included.
    result = CliRunner().invoke(app, [*args, "--config", str(ttt), "--config", str(poe)])
    assert result.exit_code == 0, result.output


def shown_lines(records, baseline=None, width=80):
    console = Console(width=width, soft_wrap=True)  # soft_wrap as the CLI's console has it
    with console.capture() as capture:
        console.print(console_table(records, "records", baseline))
    return capture.get().splitlines()


@pytest.mark.parametrize("baseline", [None, BASELINE])
def test_the_default_table_of_the_committed_records_fits_80_columns_uncut(baseline):
    records = read_records(RESULTS)
    lines = shown_lines(records, baseline)
    assert max(len(line) for line in lines) <= 80
    rows = table_rows(records, baseline)
    names = [c for c in COMPACT if c != "Δ" or baseline]
    # One row per (suite, config, digest): a rerun of the same config replaces its older record.
    assert len(rows) == len(shown(records)) and {"suite", "config", "solved", "score", "s/task (median)"} <= set(names)
    # Every row is one line holding each of its cells whole (no cell holds a space).
    for row in rows:
        cells = [row[name] for name in names if row[name]]
        assert cells in [line.split() for line in lines], cells
    assert any(line.split() == ["cpu-dev", "cpu-ttt-dfs-poe-votes", "10/30", "0.350", "20.4", "7ecc635"]
               for line in shown_lines(records))


def test_a_name_too_long_for_80_columns_folds_onto_more_lines_but_keeps_every_character():
    record = json.loads(RESULTS.read_text().splitlines()[0])
    long_name = "cpu-ttt-" + "very-long-" * 8 + "end"
    lines = shown_lines([{**record, "config": long_name}])
    assert max(len(line) for line in lines) <= 80
    first = next(i for i, line in enumerate(lines) if line.startswith("cpu-dev "))
    assert long_name not in lines[first]  # it did not fit on one line, but every piece is there in order
    pieces = [lines[first].split()[1]] + [line.strip() for line in lines[first + 1:] if line.startswith(" ")]
    assert len(pieces) > 1 and "".join(pieces) == long_name


def test_committed_leaderboard_md_is_what_the_records_render():
    """`make leaderboard` writes LEADERBOARD.md from results.jsonl; a record added without it fails here."""
    assert (REPO / "LEADERBOARD.md").read_text() == markdown(read_records(RESULTS), BASELINE)


def test_committed_records_hold_no_absolute_path():
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    records = read_records(RESULTS)
    assert len(records) >= 31  # the records committed when the paths were made portable, and later ones
    for record in records:
        for text in strings(record):
            assert not text.startswith(("/", "~")) and ":\\" not in text, (record["config"], text)
    adapters = {r["adapter"] for r in records}
    assert adapters == {"", "default"}


def test_the_adapter_is_named_portably(tmp_path, monkeypatch):
    from arcttt.engine.adapters import EMBEDDED_ADAPTER

    assert adapter_name(EMBEDDED_ADAPTER) == "default"
    (tmp_path / "work" / "stage1").mkdir(parents=True)
    (tmp_path / "elsewhere" / "my-adapter").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    assert adapter_name(tmp_path / "work" / "stage1") == "stage1"
    assert adapter_name(Path("stage1")) == "stage1"
    assert adapter_name(tmp_path / "elsewhere" / "my-adapter") == "my-adapter"


PEAK_CHECK = """
import numpy as np
from arcttt.run.leaderboard import peak_memory_mib, reset_peak_memory
assert reset_peak_memory()
big = np.ones(512 << 20, dtype=np.uint8)  # written, so resident
first = peak_memory_mib()
del big
assert reset_peak_memory()
small = np.ones(8 << 20, dtype=np.uint8)
second = peak_memory_mib()
print(first, second)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM and clear_refs are Linux's")
def test_peak_memory_is_each_configs_own_not_an_earlier_ones():
    """Config 1 holds 512 MiB at its peak and frees it; config 2 allocates little. In a fresh
    process: one that ran other tests may serve the array from memory it already holds."""
    import subprocess

    run = subprocess.run([sys.executable, "-c", PEAK_CHECK], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    first, second = map(int, run.stdout.split())
    assert first - second >= 400, (first, second)


def test_peak_memory_is_null_where_it_cannot_be_reset(tmp_path, monkeypatch):
    (tmp_path / "status").write_text("Name:\tpython\nVmHWM:\t  2048 kB\n")
    (tmp_path / "clear_refs").mkdir()  # a clear_refs that refuses the write: the window cannot be reset
    monkeypatch.setattr(leaderboard, "PROC", tmp_path)
    assert not reset_peak_memory() and peak_memory_mib() == 2
    (tmp_path / "clear_refs").rmdir()
    (tmp_path / "status").write_text("Name:\tpython\n")  # a /proc without VmHWM
    assert not reset_peak_memory() and peak_memory_mib() is None


def test_the_suites_ship_as_package_data():
    """An installed arcttt finds its suites: they live in the package and pyproject ships them."""
    package = Path(leaderboard.__file__).resolve().parents[1]
    assert SUITES == package / "suites"
    names = sorted(p.name for p in SUITES.glob("*.toml"))
    assert names == ["arc-agi-1-eval.toml", "arc-agi-2-eval.toml", "cpu-dev-2.toml", "cpu-dev.toml", "cpu-smoke.toml"]
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["arcttt"]
    for name in names:
        assert any(fnmatch.fnmatch(f"suites/{name}", pattern) for pattern in patterns), name
