"""The run over many tasks: predictions written after each task, resume, failures, the CLI."""

import json

import pytest
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.config import SolveConfig, override
from arcttt.core.errors import ArcError
from arcttt.core.predictions import load_predictions
from arcttt.core.tasks import Example, Task
from arcttt.engine.runtime import Runtime
from arcttt.run.outputs import sidecar
from arcttt.testing import tiny_loaded
from conftest import run_all

TASKS = [Task(f"t{i}", tuple(Example(((c,),), ((c, c),)) for c in (i, i + 1)), (Example(((i + 2,),), ((i + 2, i + 2),)),))
         for i in range(3)]
CONFIG = override(SolveConfig(), {"model.adapter": "", "train.steps": 3, "infer.views": 2, "train.colours": "none", "expert": "ttt"})


def engine_factory(config=CONFIG):
    return lambda: Runtime(config, tiny_loaded())


class Interrupt(Exception):
    pass


def test_predictions_hold_every_task_in_order_with_logs_and_config(tmp_path):
    out = tmp_path / "p.json"
    predictions = run_all(TASKS, CONFIG, out, engine_factory())
    assert list(load_predictions(out)) == ["t0", "t1", "t2"] == list(predictions)
    records = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["ok"] * 3 and all(r["steps"] == 3 for r in records)
    assert f"digest {CONFIG.digest}" in sidecar(out, "config.toml").read_text()


def test_resume_skips_finished_tasks_and_ends_with_the_same_file(tmp_path):
    whole = tmp_path / "whole.json"
    run_all(TASKS, CONFIG, whole, engine_factory())

    out = tmp_path / "p.json"
    started = []

    def stop_after_two(outcome):
        if outcome.task_id == "t1":
            raise Interrupt

    with pytest.raises(Interrupt):
        run_all(TASKS, CONFIG, out, engine_factory(), on_done=stop_after_two)
    assert list(load_predictions(out)) == ["t0", "t1"]  # nothing finished was lost
    run_all(TASKS, CONFIG, out, engine_factory(), resume=True, on_start=lambda task: started.append(task.id))
    assert started == ["t2"]
    assert out.read_bytes() == whole.read_bytes()


def test_resume_refuses_a_base_loaded_in_another_dtype(tmp_path):
    import torch

    out = tmp_path / "p.json"
    run_all(TASKS[:1], CONFIG, out, engine_factory())
    assert json.loads(sidecar(out, "log.jsonl").read_text())["precision"] == "float32/none"
    with pytest.raises(ArcError, match="loaded as float32/none, this run's is bfloat16/none"):
        run_all(TASKS, CONFIG, out, lambda: Runtime(CONFIG, tiny_loaded(dtype=torch.bfloat16)), resume=True)
    run_all(TASKS, CONFIG, out, engine_factory(), resume=True)  # the same base: resumed
    assert list(load_predictions(out)) == ["t0", "t1", "t2"]


def test_existing_output_needs_resume_or_overwrite_and_the_same_config(tmp_path):
    out = tmp_path / "p.json"
    run_all(TASKS[:1], CONFIG, out, engine_factory())
    with pytest.raises(ArcError, match="already exists"):
        run_all(TASKS[:1], CONFIG, out, engine_factory())
    other = override(CONFIG, {"seed": 9})
    with pytest.raises(ArcError, match="another config"):
        run_all(TASKS[:1], other, out, engine_factory(other), resume=True)
    run_all(TASKS[:1], other, out, engine_factory(other), overwrite=True)


def test_a_failing_task_gets_fallback_attempts_and_the_run_goes_on(tmp_path, monkeypatch):
    import arcttt.run.pipeline as pipeline

    real = pipeline.predict

    def broken_on_t1(model, task, *args):
        if task.id == "t1":
            raise RuntimeError("CUDA out of memory (simulated)")
        return real(model, task, *args)

    monkeypatch.setattr(pipeline, "predict", broken_on_t1)
    out = tmp_path / "p.json"
    predictions = run_all(TASKS, CONFIG, out, engine_factory())
    assert predictions["t1"] == ((TASKS[1].test[0].input,) * 2,)
    records = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["ok", "failed", "ok"]
    assert "out of memory" in records[1]["error"]
    # A resumed run retries the failed task only.
    monkeypatch.setattr(pipeline, "predict", real)
    started = []
    run_all(TASKS, CONFIG, out, engine_factory(), resume=True, on_start=lambda task: started.append(task.id))
    assert started == ["t1"]


def test_cli_solve_on_a_local_model_folder(tmp_path, hub_model_dir):
    folder = tmp_path / "tasks"
    folder.mkdir()
    for task in TASKS[:2]:
        obj = {split: [{"input": [list(r) for r in e.input], "output": [list(r) for r in e.output]} for e in examples]
               for split, examples in (("train", task.train), ("test", task.test))}
        (folder / f"{task.id}.json").write_text(json.dumps(obj))
    config = tmp_path / "c.toml"
    config.write_text("[infer]\nviews = 2\n[train]\ncolours = \"none\"\n")
    out = tmp_path / "p.json"
    args = ["solve", str(folder), "--out", str(out), "--model", str(hub_model_dir), "--steps", "2",
            "--config", str(config), "--device", "cpu", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["tasks"] == 2 and summary["outputs_total"] == 2 and 0 <= summary["score"] <= 1
    assert list(load_predictions(out)) == ["t0", "t1"]
    effective = sidecar(out, "config.toml").read_text()
    assert "steps = 2" in effective and "views = 2" in effective
    again = CliRunner().invoke(app, args + ["--resume"])
    assert again.exit_code == 0 and json.loads(again.stdout) == summary


def test_dfs_with_poe_logs_the_candidates_and_where_the_right_answer_ranked(tmp_path):
    from arcttt.core.grids import grid_digest

    config = override(CONFIG, {"infer.sampler": "dfs", "infer.min_prob": 0.01, "infer.scoring": "poe"})
    out = tmp_path / "p.json"
    predictions = run_all(TASKS, config, out, engine_factory(config))
    records = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    for task, record in zip(TASKS, records):
        assert record["status"] == "ok" and record["search_cut"] is False
        (top,), (rank,) = record["top"], record["answer_rank"]
        assert top and record["candidates"] >= len(top) and top[0]["found"] >= 1
        assert grid_digest(predictions[task.id][0][0]) == top[0]["grid"]  # attempt 1 is the best scored
        assert record["correct"] == [rank is not None and rank <= 2]
