"""Runs that never lose finished work: resume state, locks, torn logs, digests by content, failures
that stay with their task, budgets. Tiny random models (no download)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.config import override
from arcttt.core.errors import ArcError
from arcttt.core.predictions import load_predictions
from arcttt.run.outputs import finished_count, read_log, sidecar, state_path
from conftest import run_all
from test_pipeline import CONFIG, TASKS, Interrupt, engine_factory


def statuses(out):
    return {r["task_id"]: r["status"] for r in read_log(sidecar(out, "log.jsonl"))}


def test_a_resume_with_fewer_tasks_keeps_every_other_prediction(tmp_path):
    out = tmp_path / "p.json"
    run_all(TASKS[:2], CONFIG, out, engine_factory())
    before = load_predictions(out)
    run_all(TASKS[2:], CONFIG, out, engine_factory(), resume=True)  # --tasks t2 on the same --out
    after = load_predictions(out)
    assert list(after) == ["t2", "t0", "t1"]  # this run's tasks first, then the others, all kept
    assert after["t0"] == before["t0"] and after["t1"] == before["t1"]
    returned = run_all(TASKS[:1], CONFIG, out, engine_factory(), resume=True)
    assert list(returned) == ["t0"] and set(load_predictions(out)) == {"t0", "t1", "t2"}


HOLD = """
import sys, time
from arcttt.core.durable import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_run_on_the_same_out_is_refused(tmp_path):
    out = tmp_path / "p.json"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ArcError, match="another arcttt process .* is writing this output"):
            run_all(TASKS, CONFIG, out, engine_factory(), overwrite=True)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert not out.exists()


def test_a_torn_last_log_line_is_tolerated_and_repaired(tmp_path):
    out = tmp_path / "p.json"
    run_all(TASKS[:2], CONFIG, out, engine_factory())
    log = sidecar(out, "log.jsonl")
    with log.open("a") as f:
        f.write('{"task_id": "t2", "status": "o')  # killed in the middle of the append
    assert finished_count(log) == 2
    started = []
    run_all(TASKS, CONFIG, out, engine_factory(), resume=True, on_start=lambda t: started.append(t.id))
    assert started == ["t2"]
    assert statuses(out) == {"t0": "ok", "t1": "ok", "t2": "ok"}
    assert all(json.loads(line) for line in log.read_text().splitlines())  # no torn line left inside


def test_predictions_without_their_log_cannot_be_resumed(tmp_path):
    out = tmp_path / "p.json"
    run_all(TASKS[:1], CONFIG, out, engine_factory())
    sidecar(out, "log.jsonl").unlink()
    with pytest.raises(ArcError, match="its log p.log.jsonl is missing"):
        run_all(TASKS, CONFIG, out, engine_factory(), resume=True)
    assert list(load_predictions(out)) == ["t0"]  # untouched


def test_an_overwrite_killed_before_its_first_task_leaves_nothing_to_mix(tmp_path):
    out = tmp_path / "p.json"
    run_all(TASKS, CONFIG, out, engine_factory())
    other = override(CONFIG, {"seed": 9})

    def killed():
        raise Interrupt

    with pytest.raises(Interrupt):
        run_all(TASKS, other, out, killed, overwrite=True)
    assert not out.exists()  # the old run's predictions went first, so they cannot pass for the new run's
    with pytest.raises(ArcError, match="another config"):
        run_all(TASKS, CONFIG, out, engine_factory(), resume=True)  # the state names the new run
    run_all(TASKS, other, out, engine_factory(other), resume=True)
    assert set(statuses(out)) == {"t0", "t1", "t2"}


def test_the_run_digest_covers_adapter_contents_and_version(tmp_path, monkeypatch):
    import arcttt.run.provenance as provenance

    adapter = tmp_path / "stage1"
    adapter.mkdir()
    (adapter / "arcttt-adapter.json").write_text("{}")
    (adapter / "adapter_model.safetensors").write_bytes(b"weights one")
    config = override(CONFIG, {"model.adapter": str(adapter)})
    saved = tmp_path / "saved"
    (saved / "t0").mkdir(parents=True)
    (saved / "t0" / "adapter_model.safetensors").write_bytes(b"a")

    def digest(adapters=None):
        provenance.contents.cache_clear()
        return provenance.run_digest(config, adapters)

    first = digest()
    (adapter / "adapter_model.safetensors").write_bytes(b"weights two")  # retrained in place
    second = digest()
    assert first != second and config.digest == override(CONFIG, {"model.adapter": str(adapter)}).digest
    with_saved = digest(saved)
    (saved / "t0" / "adapter_model.safetensors").write_bytes(b"b")
    assert digest(saved) not in (with_saved, second)
    monkeypatch.setattr(provenance, "__version__", "9.9.9")
    assert digest() != second
    assert provenance.contents(CONFIG)["model"].startswith("embedded:")


def test_a_resume_after_the_saved_adapters_changed_is_refused(tmp_path):
    import arcttt.run.provenance as provenance

    saved = tmp_path / "saved"
    run_all(TASKS[:1], CONFIG, tmp_path / "train.json", engine_factory(), task_adapters_out=saved)
    out = tmp_path / "p.json"
    provenance.contents.cache_clear()
    run_all(TASKS[:1], CONFIG, out, engine_factory(), task_adapters_in=saved)
    assert json.loads(state_path(out).read_text())["contents"]["adapters"]
    (saved / "t0" / "adapter_model.safetensors").write_bytes(b"retrained")
    provenance.contents.cache_clear()
    with pytest.raises(ArcError, match="another config, model, adapter"):
        run_all(TASKS, CONFIG, out, engine_factory(), task_adapters_in=saved, resume=True)


def test_bad_saved_adapters_fail_their_task_only(tmp_path):
    saved = tmp_path / "saved"
    (saved / "t0").mkdir(parents=True)  # no weights: must not become a hub lookup
    (saved / "t1").mkdir()
    (saved / "t1" / "adapter_config.json").write_text("{}")
    (saved / "t1" / "adapter_model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{trunc")
    out = tmp_path / "p.json"
    run_all(TASKS, CONFIG, out, engine_factory(), task_adapters_in=saved)
    records = {r["task_id"]: r for r in read_log(sidecar(out, "log.jsonl"))}
    assert [records[t]["status"] for t in ("t0", "t1", "t2")] == ["failed", "failed", "ok"]
    assert "no adapter weights" in records["t0"]["error"]
    assert list(load_predictions(out)) == ["t0", "t1", "t2"]


def test_task_ids_never_escape_the_adapters_folder(tmp_path):
    from arcttt.core.tasks import Task

    evil = [Task(name, TASKS[0].train, TASKS[0].test) for name in ("..", "a/b", "/abs")]
    saved = tmp_path / "inside" / "saved"
    saved.mkdir(parents=True)
    run_all(evil, CONFIG, tmp_path / "inside" / "p.json", engine_factory(), task_adapters_out=saved)
    assert len(list(saved.iterdir())) == 3 and all(p.parent == saved for p in saved.iterdir())
    assert sorted(p.name for p in (tmp_path / "inside").iterdir()) == [
        "p.config.toml", "p.json", "p.log.jsonl", "p.run.json", "saved"]


def test_any_error_fails_only_its_task_but_a_bug_in_arcttt_stops_the_run(tmp_path, monkeypatch):
    import arcttt.run.pipeline as pipeline

    real = pipeline.predict

    def out_of_memory_on_t1(lm, task, *args):
        if task.id == "t1":
            raise MemoryError("simulated")
        return real(lm, task, *args)

    monkeypatch.setattr(pipeline, "predict", out_of_memory_on_t1)
    out = tmp_path / "p.json"
    run_all(TASKS, CONFIG, out, engine_factory())
    assert statuses(out) == {"t0": "ok", "t1": "failed", "t2": "ok"}

    # fallback_attempts(None) raises AttributeError inside arcttt's own code: a bug, not a task's trouble.
    from arcttt.run.loop import fallback_attempts

    with pytest.raises(AttributeError):
        run_all(TASKS, CONFIG, tmp_path / "q.json", engine_factory(), solve=lambda task, *a: fallback_attempts(None))


def test_a_bug_that_surfaces_inside_a_library_still_stops_the_run(tmp_path, monkeypatch):
    """A wrong argument from arcttt's code raises in the library it calls (here json; in a real
    run torch): the last frame is the library's, yet the bug is arcttt's."""
    import arcttt.run.pipeline as pipeline

    def wrong_argument(lm, task, *args):
        return json.dumps(object())  # TypeError raised inside json's encoder

    monkeypatch.setattr(pipeline, "predict", wrong_argument)
    with pytest.raises(TypeError):
        run_all(TASKS, CONFIG, tmp_path / "p.json", engine_factory())
    assert not (tmp_path / "p.json").exists() or statuses(tmp_path / "p.json") == {}


def test_a_bug_hidden_behind_a_wrapping_error_is_still_a_bug():
    from arcttt.run.loop import is_arcttt_bug
    from arcttt.run.outputs import in_order

    try:
        try:
            in_order(None, ["x"])  # TypeError inside arcttt
        except TypeError as inner:
            raise RuntimeError("a library wrapped it") from inner
    except RuntimeError as outer:
        assert is_arcttt_bug(outer)
    try:
        raise RuntimeError("out of memory")
    except RuntimeError as plain:
        assert not is_arcttt_bug(plain)


def test_a_task_over_its_budget_keeps_what_it_has(tmp_path):
    config = override(CONFIG, {"task_budget": 1e-9})
    out = tmp_path / "p.json"
    predictions = run_all(TASKS[:1], config, out, engine_factory(config))
    (record,) = read_log(sidecar(out, "log.jsonl"))
    assert record["status"] == "ok" and record["steps"] == 1 and record["candidates"] == 0
    assert predictions["t0"] == ((TASKS[0].test[0].input,) * 2,)  # no answer decoded in time: the fallback
    config = override(CONFIG, {"infer_budget": 1e-9})
    run_all(TASKS[:1], config, tmp_path / "q.json", engine_factory(config))
    (record,) = read_log(sidecar(tmp_path / "q.json", "log.jsonl"))
    assert record["steps"] == 3 and record["candidates"] == 0


def test_the_cli_exits_1_when_every_task_failed(tmp_path, hub_model_dir):
    folder = tmp_path / "tasks"
    folder.mkdir()
    for task in TASKS[:2]:
        obj = {split: [{"input": [list(r) for r in e.input], "output": [list(r) for r in e.output]} for e in examples]
               for split, examples in (("train", task.train), ("test", task.test))}
        (folder / f"{task.id}.json").write_text(json.dumps(obj))
    saved = tmp_path / "saved"
    for task in TASKS[:2]:
        (saved / task.id).mkdir(parents=True)  # every adapter is broken
    out = tmp_path / "p.json"
    args = ["solve", str(folder), "--out", str(out), "--model", str(hub_model_dir), "--task-adapters-in", str(saved),
            "--views", "1", "--device", "cpu", "--expert", "ttt"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "every task failed (2 of 2)" in str(result.exception)
    assert list(load_predictions(out)) == ["t0", "t1"]  # the fallbacks are still written


def test_a_refused_shard_run_leaves_its_manifest_alone(tmp_path, hub_model_dir):
    from arcttt.run.shard import manifest_path, shard_path

    folder = tmp_path / "tasks"
    folder.mkdir()
    for task in TASKS:
        obj = {split: [{"input": [list(r) for r in e.input]} for e in examples]
               for split, examples in (("train", task.train), ("test", task.test))}
        for pair, example in zip(obj["train"], task.train):
            pair["output"] = [list(r) for r in example.output]
        (folder / f"{task.id}.json").write_text(json.dumps(obj))
    out = tmp_path / "p.json"
    base = ["solve", str(folder), "--out", str(out), "--model", str(hub_model_dir), "--steps", "1", "--views", "1",
            "--device", "cpu", "--shard", "0/2"]
    assert CliRunner().invoke(app, base).exit_code == 0
    manifest = manifest_path(shard_path(out, 0, 2))
    before = manifest.read_bytes()
    refused = CliRunner().invoke(app, base + ["--seed", "5"])
    assert refused.exit_code == 1 and "already exists" in str(refused.exception)
    resumed_other = CliRunner().invoke(app, base + ["--seed", "5", "--resume"])
    assert resumed_other.exit_code == 1 and "another run" in str(resumed_other.exception)
    assert manifest.read_bytes() == before


def test_rank_0_checks_out_before_the_group_starts(tmp_path, monkeypatch):
    from rich.console import Console

    from arcttt.run.solve import RunOptions, run

    out = tmp_path / "p.json"
    out.write_text("{}")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    with pytest.raises(ArcError, match="already exists"):
        run(TASKS, CONFIG, RunOptions(out), Console(stderr=True))
    assert out.read_text() == "{}"


# --- stage 1 ----------------------------------------------------------------------------------------

def test_pretrain_never_writes_into_a_folder_that_is_not_its_own(tmp_path, hub_model_dir):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "README.md").write_text("my notes")
    (folder / "losses.jsonl").write_text("precious\n")
    for flags in ([], ["--resume"]):
        result = CliRunner().invoke(app, ["pretrain", "--data", "data/sample", "--model", str(hub_model_dir), "--out",
                                          str(folder), "--steps", "1", "--rank", "4", "--device", "cpu", *flags])
        assert result.exit_code == 1 and "exists and holds other files" in str(result.exception)
    assert (folder / "README.md").read_text() == "my notes" and (folder / "losses.jsonl").read_text() == "precious\n"


def test_a_kill_while_writing_the_run_marker_leaves_a_folder_stage_1_still_owns(tmp_path, hub_model_dir):
    """Found by scripts/chaos.py: the first write into a new folder was cut, only its temp file left."""
    folder = tmp_path / "cut"
    folder.mkdir()
    (folder / ".arcttt-pretrain.json.x1y2.tmp").write_text('{"config": {')
    result = CliRunner().invoke(app, ["pretrain", "--data", "data/sample", "--model", str(hub_model_dir), "--out",
                                      str(folder), "--steps", "1", "--rank", "4", "--device", "cpu", "--resume"])
    assert result.exit_code == 0, result.output
    assert (folder / "arcttt-adapter.json").exists() and not list(folder.glob("*.tmp"))


def test_a_kill_between_checkpoint_renames_resumes_from_the_last_checkpoint(tmp_path, hub_model_dir):
    from arcttt.core.config import ModelConfig
    from arcttt.engine.model import load_model
    from arcttt.run.pretrain import build_corpus, pretrain
    from test_pretrain import CONFIG as PRETRAIN, TRAIN, Stop

    corpus = build_corpus([("train", TRAIN)], [])
    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    pretrain(load_model(model_config), model_config, corpus, PRETRAIN, tmp_path / "whole")

    def stop_at_5(step, loss, tokens):
        if step == 5:
            raise Stop

    cut = tmp_path / "cut"
    with pytest.raises(Stop):
        pretrain(load_model(model_config), model_config, corpus, PRETRAIN, cut, on_step=stop_at_5)
    # As if killed between `checkpoint -> checkpoint.old` and `checkpoint.tmp -> checkpoint`, with
    # the staging copy incomplete: only the old checkpoint (step 3) is whole.
    (cut / "checkpoint").rename(cut / "checkpoint.old")
    (cut / "checkpoint.tmp").mkdir()
    (cut / "checkpoint.tmp" / "adapter_model.safetensors").write_bytes(b"half")
    steps = []
    pretrain(load_model(model_config), model_config, corpus, PRETRAIN, cut, resume=True,
             on_step=lambda step, loss, tokens: steps.append(step))
    assert steps[0] == 4  # not step 1: the rotation was finished from checkpoint.old
    assert (cut / "adapter_model.safetensors").read_bytes() == (tmp_path / "whole" / "adapter_model.safetensors").read_bytes()
    assert not (cut / "checkpoint.old").exists() and not (cut / "checkpoint.tmp").exists()
