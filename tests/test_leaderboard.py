"""A two-config leaderboard on a tiny model: records, resume, the table, Markdown and the plot."""

import json

import pytest
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.errors import ArcError
from arcttt.run.leaderboard import load_suite, markdown, table_rows

TASKS = {f"lb{i}": {"train": [{"input": [[i]], "output": [[i, i]]}, {"input": [[i + 1]], "output": [[i + 1, i + 1]]}],
                    "test": [{"input": [[i + 2]], "output": [[i + 2, i + 2]]}]} for i in range(1, 4)}


@pytest.fixture
def setup(tmp_path, hub_model_dir):
    folder = tmp_path / "tasks"
    folder.mkdir()
    for task_id, obj in TASKS.items():
        (folder / f"{task_id}.json").write_text(json.dumps(obj))
    suite = tmp_path / "tiny.toml"
    suite.write_text(f'name = "tiny"\nversion = 2\nsource = "{folder}"\ntasks = ["lb1", "lb3"]\n')
    configs = []
    for name, ttt in (("icl", "false"), ("ttt", "true")):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'ttt = {ttt}\n[model]\nname = "{hub_model_dir}"\ndevice = "cpu"\n'
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
        # A process that loaded torch and a model: hundreds of MiB, in MiB (not KiB or bytes).
        assert 100 <= record["peak_memory_mib"] <= 64 * 1024 and record["machine"] and record["date"]
    assert icl["tokens_trained"] == 0 < ttt["tokens_trained"]
    assert icl["config_digest"] != ttt["config_digest"]
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert records == [icl, ttt]

    rows = table_rows(records, baseline="icl")
    assert sorted(row[1] for row in rows) == ["icl", "ttt"]
    assert [row[3] for row in rows if row[1] == "ttt"] == [f"{ttt['score'] - icl['score']:+.3f}"]
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
