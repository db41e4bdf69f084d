"""`arcttt report`: the page of a real run on data/sample (the program expert, plus a made-up TTT
outcome and a failure), read back with an HTML parser; the log's added fields stay bounded; bad
input gives one clear line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import run_all
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.config import SolveConfig, override
from arcttt.core.errors import ArcError
from arcttt.core.grids import grid_digest
from arcttt.core.outcome import LOSS_POINTS, Outcome, TrainStats
from arcttt.core.predictions import load_predictions, write_predictions
from arcttt.core.ranking import Ranked
from arcttt.core.tasks import load_source
from arcttt.run.outputs import sidecar, state_path
from arcttt.run.report import read_run, write_report

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
CONFIG = override(SolveConfig(), {"expert": "program", "programs.time_limit": 0.5})
TTT_TASK, FAILED_TASK = "be03b35f", "66e6c45b"


def made_up_ttt(task) -> Outcome:
    """What a TTT task's outcome looks like, without a model: 300 training steps, a wrong attempt
    of the truth's shape (one cell changed), then the right answer."""
    truth = task.test[0].output
    wrong = ((9 - truth[0][0], *truth[0][1:]), *truth[1:])
    ranked = [[Ranked(wrong, 5, 0.7), Ranked(truth, 3, 0.2)]]
    losses = [2.0 / (1 + step / 10) for step in range(300)]
    return Outcome(task.id, ((wrong, truth),), 12.5, train=TrainStats(steps=300, tokens=48_000, seconds=11.0,
                                                                          losses=losses), ranked=ranked, expert="ttt")


def solver(task, *args):
    """The real solver, but for one made-up TTT outcome and one failure."""
    from arcttt.run.pipeline import solve_task

    if task.id == TTT_TASK:
        return made_up_ttt(task)
    if task.id == FAILED_TASK:
        raise ValueError("simulated: out of memory")
    return solve_task(task, *args)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "predictions.json"
    run_all(list(load_source(SAMPLE).tasks), CONFIG, out, lambda: None, solve=solver)
    return out


class Page(HTMLParser):
    """What a test needs of the page: every tag's attributes, the table's rows and marks, the data."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.rows: dict[str, dict] = {}
        self.marks: dict[str, list[bool]] = {}
        self.row: str | None = None
        self.mark: str | None = None
        self.data_text: list[str] | None = None
        self.data = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "tr" and "data-id" in attrs:
            self.row = attrs["data-id"]
            self.rows[self.row] = attrs
            self.marks[self.row] = []
        if tag == "span" and self.row is not None:
            self.mark = attrs.get("class")
        if tag == "script" and attrs.get("id") == "data":
            self.data_text = []

    def handle_endtag(self, tag):
        if tag == "tr":
            self.row = None
        if tag == "script" and self.data_text is not None:
            self.data = json.loads("".join(self.data_text))
            self.data_text = None

    def handle_data(self, data):
        if self.data_text is not None:
            self.data_text.append(data)
        elif self.mark in ("ok", "bad") and data in ("✓", "✗") and self.row is not None:
            self.marks[self.row].append(self.mark == "ok")
            self.mark = None


def page_of(run: Path, *args) -> tuple[Page, str]:
    written = write_report(run, *args)
    text = written.path.read_text(encoding="utf-8")
    return Page(text), text


def test_the_page_holds_every_task_and_marks_them_as_arcttt_score_does(run):
    page, text = page_of(run)
    predicted = load_predictions(run)
    assert list(page.rows) == list(predicted) and [t["id"] for t in page.data["tasks"]] == list(predicted)
    scored = CliRunner().invoke(app, ["score", str(run), "--solutions", str(SAMPLE), "--json"])
    per_task = json.loads(scored.stdout)["per_task"]
    assert {task: marks for task, marks in page.marks.items()} == {t: r["correct"] for t, r in per_task.items()}
    assert f"<b>{json.loads(scored.stdout)['score']:.4f}</b>" in text
    statuses = {task: row["data-status"] for task, row in page.rows.items()}
    assert statuses[FAILED_TASK] == "failed" and statuses[TTT_TASK] == "solved"  # attempt 2 is right: that counts
    assert [per_task[TTT_TASK]["correct"], page.marks[TTT_TASK]] == [[True], [True]]
    assert all(statuses[t] == ("solved" if all(r["correct"]) else "wrong") for t, r in per_task.items()
               if t not in (FAILED_TASK, TTT_TASK))


def test_a_task_shows_its_grids_losses_and_errors(run):
    page, _ = page_of(run)
    tasks = {t["id"]: t for t in page.data["tasks"]}
    ttt = tasks[TTT_TASK]
    source = load_source(SAMPLE).by_id()[TTT_TASK]
    assert ttt["expert"] == "ttt" and ttt["tokens"] == 48_000 and ttt["steps"] == 300
    assert len(ttt["loss_curve"]) == LOSS_POINTS and ttt["loss_curve"][0] == 2.0
    assert ttt["right"] == [[False, True]]
    assert [[hit["rank"], hit["found"]] for hit in ttt["found"][0]] == [[1, 5], [2, 3]]
    assert ttt["truth"] == [["".join(map(str, row)) for row in source.test[0].output]]
    assert len(ttt["train"]) == len(source.train) and len(ttt["test"]) == len(source.test)
    assert "simulated: out of memory" in tasks[FAILED_TASK]["error"]
    assert any(t["programs"] for t in tasks.values())  # the program expert's verified programs


def test_the_page_embeds_no_external_url(run):
    page, text = page_of(run)
    assert not re.search(r"https?:|ftp:|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I)
    assert not re.search(r"@import|url\(", text)
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag  # scripts and styles are inline
        assert attrs.get("href", "#").startswith("#"), attrs


def test_the_log_keeps_a_bounded_record_per_task():
    truth = ((1, 2), (3, 4))
    outcome = Outcome("t", ((truth, truth),) * 4, 1.0, train=TrainStats(steps=100_000, losses=[123.456789] * 100_000))
    record = outcome.record("digest")
    assert len(json.dumps(record["loss_curve"])) <= LOSS_POINTS * 10  # "123.4568, " a point
    assert len(json.dumps(record["attempts"])) <= 4 * 42
    assert record["attempts"][0] == [grid_digest(truth)] * 2
    falling = Outcome("t", (), 1.0, train=TrainStats(losses=[float(i) for i in range(1000)])).record("d")["loss_curve"]
    assert falling[0] == 0.0 and falling[-1] == 999.0 and falling == sorted(falling)


def test_the_accuracy_time_plot_appears_where_the_run_is_a_leaderboard_record(run, tmp_path):
    digest = read_run(run).digest
    record = {"suite": "cpu-dev", "config": "mine", "config_digest": "c", "score": 0.4, "seconds_per_task_median": 2.0}
    records = [{**record, "config": "other", "run_digest": "x", "score": 0.2},
               {**record, "run_digest": digest}]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in records))
    _, text = page_of(run, None, tmp_path / "page.html", results)
    assert text.count('class="me"') == 1 and text.count('class="front"') == 1 and "cpu-dev" in text
    _, without = page_of(run, None, tmp_path / "page.html", tmp_path / "none.jsonl")
    assert 'class="front"' not in without


def copy_run(run: Path, folder: Path) -> Path:
    folder.mkdir()
    for path in run.parent.glob(f"{run.stem}.*"):
        if not path.name.endswith(".html"):
            shutil.copy(path, folder / path.name)
    return folder / run.name


def refusal(out: Path) -> str:
    with pytest.raises(ArcError) as caught:
        write_report(out)
    return str(caught.value)


def test_bad_runs_are_refused_in_one_line(run, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(run, alone / "predictions.json")
    assert "no log beside it (predictions.log.jsonl" in refusal(alone / "predictions.json")
    assert "no such predictions file" in refusal(tmp_path / "nothing.json")

    foreign = copy_run(run, tmp_path / "foreign")
    state = json.loads(state_path(foreign).read_text())
    state_path(foreign).write_text(json.dumps({**state, "digest": "0123456789abcdef"}))
    assert "was logged by another run" in refusal(foreign) and "0123456789abcdef" in refusal(foreign)

    edited = copy_run(run, tmp_path / "edited")
    predictions = load_predictions(edited)
    first = next(iter(predictions))
    seven = ((7,),)
    write_predictions(edited, {**predictions, first: ((seven, seven),) * len(predictions[first])})
    message = refusal(edited)
    assert f"task {first}" in message and "the log is another run's" in message


def test_a_missing_task_is_named_on_the_page(run, tmp_path):
    moved = copy_run(run, tmp_path / "moved")
    log = sidecar(moved, "log.jsonl")
    log.write_text(re.sub(r'"source": "[^"]*"', '"source": "/nowhere/task.json"', log.read_text()))
    written = write_report(moved)
    assert any("cannot read a task source" in note and "/nowhere/task.json" in note for note in written.notes)
    assert any("5 task(s) not found" in note for note in written.notes)
    page = Page(written.path.read_text(encoding="utf-8"))
    assert set(page.rows) == set(load_predictions(run)) and {r["data-status"] for r in page.rows.values()} <= \
        {"unscored", "failed"}
    again = write_report(moved, str(SAMPLE))  # --solutions brings the tasks back
    assert [n for n in again.notes if "not found" in n or "not scored" in n] == []


def arcttt(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arcttt", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_solve_says_how_to_look_and_a_workers_run_reports_from_its_shards(tmp_path):
    """The real command line: `solve --workers 2` (shard logs only), its closing hint, the report."""
    out = tmp_path / "run" / "predictions.json"
    solved = arcttt("solve", SAMPLE, "--expert", "program", "--program-time", "0.3s", "--workers", "2", "--out", out,
                    cwd=tmp_path)
    assert solved.returncode == 0, solved.stderr[-2000:]
    assert solved.stderr.splitlines()[-1] == f"look at the run: arcttt report {out}"
    assert not sidecar(out, "log.jsonl").exists()  # the logs are the shards'
    reported = arcttt("report", out, cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    assert reported.stdout.startswith(f"wrote {sidecar(out, 'report.html')} (5 tasks") and reported.stderr == ""
    run = read_run(out)
    assert len(run.files) == 2 and set(run.records) == set(load_predictions(out))
    missing = arcttt("report", tmp_path / "nothing.json", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stdout == "" and "Traceback" not in missing.stderr
    assert missing.stderr.splitlines() == [f"arcttt: error: {tmp_path / 'nothing.json'}: no such predictions file"]


def test_leaderboard_run_writes_a_page_per_record(tmp_path, monkeypatch):
    suite = tmp_path / "two.toml"
    suite.write_text(f'name = "two"\nversion = 1\nsource = "{SAMPLE.as_posix()}"\ntasks = ["66e6c45b", "be03b35f"]\n')
    config = tmp_path / "programs.toml"
    config.write_text('expert = "program"\n[programs]\ntime_limit = 0.5\n')
    monkeypatch.chdir(tmp_path)  # records keep paths relative to the working folder
    result = CliRunner().invoke(app, ["leaderboard", "run", "--suite", str(suite), "--config", str(config),
                                      "--results", "results.jsonl", "--runs", "runs", "--report", "--json"])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    page = sidecar(Path(record["predictions"]), "report.html")
    text = page.read_text(encoding="utf-8")
    assert f"wrote {page}" in result.stderr and text.count('class="me"') == 1  # its own record, ringed
    assert all(task_id in text for task_id in ("66e6c45b", "be03b35f"))
