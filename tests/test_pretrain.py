"""Stage 1 on tiny models: exact resume, the contamination guard, and solve's warning."""

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.config import LoraConfig, ModelConfig, PretrainConfig
from arcttt.core.contamination import Guard
from arcttt.core.errors import ArcError
from arcttt.core.tasks import Example, Task
from arcttt.engine.model import load_model
from arcttt.run.pretrain import build_corpus, chunk_batches, chunk_samples, hold_out, pretrain


def task(task_id, colour, side=2):
    grid = tuple((colour,) * side for _ in range(side))
    flipped = tuple(((colour + 1) % 10,) * side for _ in range(side))
    return Task(task_id, (Example(grid, flipped), Example(flipped, grid)), (Example(grid, flipped),))


TRAIN = [task(f"train{c}", c) for c in range(1, 6)]
# Batches of a few samples, chunks that end inside the run, one task held out.
CONFIG = PretrainConfig(steps=8, lr=1e-3, checkpoint_every=3, max_tokens=256, batch_tokens=96, chunk=7, held_out=1,
                        lora=LoraConfig(rank=4, alpha=8))


class Stop(Exception):
    pass


def test_guard_drops_excluded_ids_and_the_same_grids_under_another_id():
    evaluated = task("eval1", 7)
    renamed = Task("innocent-looking", evaluated.train, evaluated.test)
    corpus = build_corpus([("train", TRAIN + [renamed, task("eval1", 8)])], [("eval", [evaluated])])
    assert [t.id for t in corpus.tasks] == [t.id for t in TRAIN]
    assert corpus.dropped == {"innocent-looking": "content", "eval1": "id"}
    assert Guard.of([evaluated]).reason(task("other", 3)) is None
    # Solved tests become demonstrations for stage 1.
    assert len(corpus.tasks[0].train) == 3 and corpus.tasks[0].test == ()


def test_guard_drops_tasks_sharing_a_single_grid_and_duplicates_by_content():
    evaluated = task("eval1", 7)
    # Shares only the evaluated task's first input grid, paired with another output.
    borrows_a_grid = Task("borrower", (Example(evaluated.train[0].input, task("x", 3).train[0].input),) * 2, ())
    copy = Task("copy-of-train1", TRAIN[0].train, TRAIN[0].test)
    corpus = build_corpus([("a", TRAIN), ("b", [borrows_a_grid, copy])], [("eval", [evaluated])])
    assert [t.id for t in corpus.tasks] == [t.id for t in TRAIN]
    assert corpus.dropped == {"borrower": "grid", "copy-of-train1": "duplicate"}


def test_held_out_tasks_are_not_trained_and_their_loss_is_measured(tmp_path, hub_model_dir):
    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    corpus = build_corpus([("train", TRAIN)], [])
    manifest = pretrain(load_model(model_config), model_config, corpus, CONFIG, tmp_path / "a")
    (held,) = manifest["held_out_tasks"]
    assert held in {t.id for t in TRAIN} and held not in manifest["trained_tasks"]
    assert len(manifest["trained_tasks"]) == len(TRAIN) - 1
    loss = manifest["held_out_loss"]
    assert loss["samples"] == 3 and loss["before"] > 0 and loss["after"] > 0 and loss["before"] != loss["after"]
    # The same seed holds out the same task; the choice does not depend on the run.
    assert hold_out(corpus, 1, CONFIG.seed).held_out[0].id == held
    assert manifest["extended"] == [] and manifest["train_seconds"] >= 0 and "cpu_seconds" not in manifest


def test_time_budget_stops_early_with_a_usable_adapter(tmp_path, hub_model_dir):
    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    corpus = build_corpus([("train", TRAIN)], [])
    manifest = pretrain(load_model(model_config), model_config, corpus, replace(CONFIG, time_budget=1e-6),
                        tmp_path / "a")
    assert manifest["steps"] == 1 and manifest["stopped"].startswith("time budget")
    assert json.loads((tmp_path / "a" / "checkpoint" / "state.json").read_text())["step"] == 1
    assert (tmp_path / "a" / "adapter_model.safetensors").exists()


def test_chunks_are_a_pure_function_of_seed_and_index_and_batched_within_budget():
    corpus = build_corpus([("train", TRAIN)], [])
    config = replace(CONFIG, chunk=10, extra_rate=0.0)
    first = chunk_samples(corpus, 1, config)
    assert first == chunk_samples(corpus, 1, config) and first != chunk_samples(corpus, 2, config)
    assert len(first) == 10
    assert sorted(i for batch in chunk_batches(first, 1, config) for i in batch) == list(range(10))
    assert all(sum(len(first[i]) for i in b) <= config.batch_tokens or len(b) == 1
               for b in chunk_batches(first, 1, config))


def test_resume_continues_at_the_exact_step_with_the_same_loss_curve(tmp_path, hub_model_dir):
    corpus = build_corpus([("train", TRAIN)], [])
    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    whole = pretrain(load_model(model_config), model_config, corpus, CONFIG, tmp_path / "whole")

    def stop_at_5(step, loss, tokens):
        if step == 5:
            raise Stop

    with pytest.raises(Stop):
        pretrain(load_model(model_config), model_config, corpus, CONFIG, tmp_path / "cut", on_step=stop_at_5)
    assert json.loads((tmp_path / "cut" / "checkpoint" / "state.json").read_text())["step"] == 3
    with pytest.raises(ArcError, match="pass --resume"):
        pretrain(load_model(model_config), model_config, corpus, CONFIG, tmp_path / "cut")
    effective = (tmp_path / "cut" / "pretrain.config.toml").read_text()
    with pytest.raises(ArcError, match="fewer than the 3 steps this run has trained"):
        pretrain(load_model(model_config), model_config, corpus, replace(CONFIG, steps=2), tmp_path / "cut",
                 resume=True)
    with pytest.raises(ArcError, match="extended, not shortened"):
        pretrain(load_model(model_config), model_config, corpus, replace(CONFIG, steps=6), tmp_path / "cut",
                 resume=True)
    with pytest.raises(ArcError, match=r"another run \(lr 0.001 there, 0.002 here; lora.rank 4 there, 8 here\)"):
        pretrain(load_model(model_config), model_config, corpus,
                 replace(CONFIG, steps=20, lr=2e-3, lora=LoraConfig(rank=8, alpha=8)), tmp_path / "cut", resume=True)
    assert (tmp_path / "cut" / "pretrain.config.toml").read_text() == effective  # a refused resume writes nothing
    resumed = pretrain(load_model(model_config), model_config, corpus, CONFIG, tmp_path / "cut", resume=True)
    assert curve(tmp_path / "cut") == curve(tmp_path / "whole") and len(curve(tmp_path / "whole")) == 8
    assert resumed["tokens"] == whole["tokens"] and resumed["steps"] == 8
    assert resumed["held_out_loss"] == whole["held_out_loss"]
    # Resuming with other settings or data would make the manifest lie about what was trained.
    with pytest.raises(ArcError, match="another run .seed 0 there, 1 here"):
        pretrain(load_model(model_config), model_config, corpus, replace(CONFIG, seed=1), tmp_path / "cut",
                 resume=True)
    with pytest.raises(ArcError, match="another run .other training tasks"):
        pretrain(load_model(model_config), model_config, build_corpus([("train", TRAIN[:4])], []), CONFIG,
                 tmp_path / "cut", resume=True)
    assert (tmp_path / "cut" / "adapter_model.safetensors").read_bytes() == \
        (tmp_path / "whole" / "adapter_model.safetensors").read_bytes()


def curve(directory):
    return [json.loads(line)["loss"] for line in (directory / "losses.jsonl").read_text().splitlines()]


def test_a_larger_steps_extends_a_finished_run_on_a_replanned_schedule(tmp_path, hub_model_dir):
    import torch

    from arcttt.engine.ttt import warmup_cosine

    corpus = build_corpus([("train", TRAIN)], [])
    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    longer = replace(CONFIG, steps=12)
    for name in ("a", "b"):
        pretrain(load_model(model_config), model_config, corpus, CONFIG, tmp_path / name)
    eight = (tmp_path / "a" / "adapter_model.safetensors").read_bytes()
    first = curve(tmp_path / "a")
    seen = []
    extended = pretrain(load_model(model_config), model_config, corpus, longer, tmp_path / "a", resume=True,
                        on_step=lambda step, loss, tokens: seen.append((step, loss)), log_every=2)
    assert extended["steps"] == 12 and extended["stopped"] == "all steps"
    assert extended["extended"] == [{"from_steps": 8, "to_steps": 12, "at_step": 8}]
    assert curve(tmp_path / "a")[:8] == first and len(curve(tmp_path / "a")) == 12
    assert seen == list(zip(range(9, 13), curve(tmp_path / "a")[8:]))  # every step, in order, whatever log_every
    assert (tmp_path / "a" / "adapter_model.safetensors").read_bytes() != eight

    def stop_at_10(step, loss, tokens):
        if step == 10:
            raise Stop

    with pytest.raises(Stop):
        pretrain(load_model(model_config), model_config, corpus, longer, tmp_path / "b", resume=True,
                 on_step=stop_at_10)
    state = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())
    # Re-planned: the learning rate after step 9 is that of a run planned for 12 steps.
    planned = {}
    for steps in (8, 12):
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=CONFIG.lr)
        warmup_cosine(optimizer, CONFIG.warmup, steps, done=9)
        planned[steps] = optimizer.param_groups[0]["lr"]
    assert state["step"] == 9 and state["param_groups"][0]["lr"] == pytest.approx(planned[12])
    assert planned[12] > 4 * planned[8]  # not the old plan's
    resumed = pretrain(load_model(model_config), model_config, corpus, longer, tmp_path / "b", resume=True)
    assert resumed["extended"] == extended["extended"] and curve(tmp_path / "b") == curve(tmp_path / "a")
    assert (tmp_path / "b" / "adapter_model.safetensors").read_bytes() == \
        (tmp_path / "a" / "adapter_model.safetensors").read_bytes()
    with pytest.raises(ArcError, match="fewer than the 12 steps"):
        pretrain(load_model(model_config), model_config, corpus, CONFIG, tmp_path / "b", resume=True)


def test_solve_with_the_adapter_warns_about_tasks_it_was_trained_on(tmp_path, hub_model_dir):
    adapter = tmp_path / "stage1"
    result = CliRunner().invoke(app, ["pretrain", "--data", "data/sample", "--model", str(hub_model_dir), "--out",
                                      str(adapter), "--steps", "3", "--rank", "4", "--held-out", "0", "--device", "cpu",
                                      "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["steps"] == 3 and len(manifest["trained_tasks"]) == 5 and manifest["sources"] == ["data/sample"]
    out = tmp_path / "p.json"
    solved = CliRunner().invoke(app, ["solve", "data/sample", "--tasks", "00576224", "--model", str(hub_model_dir),
                                      "--stage1", str(adapter), "--steps", "1", "--views", "1", "--device", "cpu",
                                      "--out", str(out), "--json"])
    assert solved.exit_code == 0, solved.output
    assert "WARNING: the stage-1 adapter" in solved.stderr and "00576224" in solved.stderr
    # With the evaluated tasks excluded, the same data trains on nothing and says so.
    refused = CliRunner().invoke(app, ["pretrain", "--data", "data/sample", "--exclude", "arc-agi-1/evaluation",
                                       "--model", str(hub_model_dir), "--out", str(tmp_path / "x"), "--steps", "1"])
    assert refused.exit_code != 0 and "no training task left" in str(refused.exception)


def test_adapter_for_another_base_model_is_refused(tmp_path, hub_model_dir):
    from arcttt.engine.adapters import merge_base_adapter

    adapter = tmp_path / "stage1"
    CliRunner().invoke(app, ["pretrain", "--data", "data/sample", "--model", str(hub_model_dir), "--out", str(adapter),
                             "--steps", "1", "--rank", "4", "--device", "cpu"])
    loaded = load_model(ModelConfig(name=str(hub_model_dir), device="cpu", adapter=""))
    with pytest.raises(ArcError, match="trained on"):
        merge_base_adapter(loaded, adapter, "some/other-model")


def test_adapter_for_a_base_with_other_weights_is_refused(tmp_path, hub_model_dir):
    import torch

    from arcttt.engine.digest import base_digest

    from arcttt.engine.adapters import merge_base_adapter

    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    corpus = build_corpus([("train", TRAIN)], [])
    manifest = pretrain(load_model(model_config), model_config, corpus, replace(CONFIG, steps=1), tmp_path / "a")
    same = load_model(model_config)
    assert manifest["base_digest"] == base_digest(same.model)
    merge_base_adapter(same, tmp_path / "a", str(hub_model_dir))  # the base it was trained on: accepted
    other = load_model(model_config)
    with torch.no_grad():
        other.model.get_input_embeddings().weight[3, 0] += 1.0
    with pytest.raises(ArcError, match="another base model"):
        merge_base_adapter(other, tmp_path / "a", str(hub_model_dir))
    # Loaded in another float dtype, the same weights keep their digest.
    assert base_digest(load_model(replace(model_config, dtype="bfloat16")).model) == manifest["base_digest"]


def base_weights(model) -> dict:
    """The base model's own weights, by their names before peft wrapped any layer."""
    out = {}
    for name, tensor in model.state_dict().items():
        if "lora_" not in name:
            out[name.replace("base_model.model.", "").replace(".base_layer", "")] = tensor.detach().clone()
    return out


def test_a_quantized_base_keeps_the_stage1_adapter_beside_it_unmerged(tmp_path, hub_model_dir):
    import torch

    from arcttt.core.config import SolveConfig, override
    from arcttt.core.encode import encode
    from arcttt.engine.adapters import merge_base_adapter
    from arcttt.engine.runtime import Runtime
    from arcttt.run.pipeline import solve_task
    from test_ttt import SWAP

    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    pretrain(load_model(model_config), model_config, build_corpus([("train", TRAIN)], []),
             replace(CONFIG, steps=4, lr=1e-2), tmp_path / "a")
    cfg = override(SolveConfig(), {"model.name": str(hub_model_dir), "model.device": "cpu", "model.dtype": "float32", "model.adapter": str(tmp_path / "a"), "model.backend": "hf", "train.steps": 20, "train.lr": 3e-3, "train.colours": "none", "infer.views": 2, "expert": "ttt"})
    # What a 4-bit load reports (bitsandbytes needs CUDA): the engine's decision is under test.
    quantized = replace(load_model(cfg.model), quantize="4bit")
    before = base_weights(quantized.model)
    with pytest.raises(ArcError, match="will not merge"):
        merge_base_adapter(quantized, tmp_path / "a", str(hub_model_dir))
    unmerged = Runtime(cfg, quantized)
    merged = Runtime(cfg)
    ids = torch.tensor([encode(SWAP.train, SWAP.test[0], with_answer=False).ids])
    with torch.no_grad():
        assert torch.allclose(unmerged.lm(ids), merged.lm(ids), atol=1e-5)  # the same function
        assert not torch.allclose(unmerged.lm(ids), Runtime(override(cfg, {"model.adapter": ""}))
                                  .lm(ids), atol=1e-3)  # ... and not the bare model's
    stage1 = {k: v.clone() for k, v in unmerged.lm.model.state_dict().items() if ".stage1." in k}
    with torch.no_grad():
        fresh = unmerged.lm(ids)
    outcome = solve_task(SWAP, unmerged, cfg, task_adapters_out=tmp_path / "ttt")
    assert outcome.train.steps == 20
    after = unmerged.lm.model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in stage1.items())  # stage 1 frozen
    assert all(torch.equal(v, before[k]) for k, v in base_weights(unmerged.lm.model).items())  # base untouched
    from safetensors.torch import load_file

    saved = load_file(tmp_path / "ttt" / "swap" / "adapter_model.safetensors")
    assert saved and all("stage1" not in k for k in saved)
    from peft import get_peft_model_state_dict

    trained = get_peft_model_state_dict(unmerged.lm.model, adapter_name="default", save_embedding_layers=False)
    assert set(saved) == set(trained) and all(torch.equal(saved[k], v) for k, v in trained.items())
    unmerged.lm.reset()
    with torch.no_grad():
        assert torch.equal(unmerged.lm(ids), fresh)


def test_resume_on_a_base_in_another_dtype_is_refused_before_loading(tmp_path, hub_model_dir):
    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="")
    corpus = build_corpus([("train", TRAIN)], [])
    pretrain(load_model(model_config), model_config, corpus, replace(CONFIG, steps=3), tmp_path / "a")
    other = replace(model_config, dtype="bfloat16")
    with pytest.raises(ArcError, match="base dtype/quantization"):
        pretrain(load_model(other), other, corpus, replace(CONFIG, steps=3), tmp_path / "a", resume=True)


def test_a_stage1_config_round_trips_through_toml_and_refuses_bad_values(tmp_path):
    from arcttt.core.config import load_pretrain_config, pretrain_to_toml

    config = replace(CONFIG, lora=LoraConfig(rank=8, alpha=4, dropout=0.1))
    path = tmp_path / "p.toml"
    path.write_text(pretrain_to_toml(config))
    assert load_pretrain_config(path) == config
    path.write_text("steps = 10\n[lora]\nrank = 8\n")  # [lora] keys not given keep the stage-1 defaults
    loaded = load_pretrain_config(path)
    assert (loaded.steps, loaded.lora.rank, loaded.lora.alpha) == (10, 8, PretrainConfig().lora.alpha)
    for bad, field in (("lr = 0.0", "lr"), ("warmup = 2.0", "warmup"), ("nonsense = 1", "nonsense")):
        path.write_text(bad + "\n")
        with pytest.raises(ArcError, match=field):
            load_pretrain_config(path)


def test_pretrain_reads_its_config_file_writes_the_effective_one_and_options_win(tmp_path, hub_model_dir):
    from arcttt.core.config import load_pretrain_config

    path = tmp_path / "stage1.toml"
    path.write_text("steps = 2\nlr = 0.001\nmax_tokens = 256\nbatch_tokens = 96\nheld_out = 1\n[lora]\nrank = 4\nalpha = 16\n")
    out = tmp_path / "a"
    result = CliRunner().invoke(app, ["pretrain", "--data", "data/sample", "--model", str(hub_model_dir), "--out",
                                      str(out), "--config", str(path), "--steps", "3", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    effective = load_pretrain_config(out / "pretrain.config.toml")
    assert (effective.steps, effective.lr, effective.lora.rank, effective.lora.alpha) == (3, 0.001, 4, 16)
    assert json.loads(result.stdout)["steps"] == 3
    again = CliRunner().invoke(app, ["pretrain", "--data", "data/sample", "--model", str(hub_model_dir), "--out",
                                     str(tmp_path / "b"), "--config", str(path), "--rank", "2", "--device", "cpu"])
    assert again.exit_code == 0, again.output
    assert load_pretrain_config(tmp_path / "b" / "pretrain.config.toml").lora == LoraConfig(rank=2, alpha=4)


def test_stage1_trains_in_the_models_format_and_solving_in_another_is_refused(tmp_path, hub_model_dir):
    from arcttt.core.formats import NVARC
    from arcttt.engine.adapters import merge_base_adapter

    # NVARC's 16 symbols fit the tiny model's 29 rows (its missing words get stand-in ids).
    model_config = ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", adapter="", format="nvarc")
    corpus = build_corpus([("train", TRAIN)], [])
    manifest = pretrain(load_model(model_config), model_config, corpus, replace(CONFIG, steps=2), tmp_path / "a")
    assert manifest["format"] == "nvarc" and manifest["symbols"] == list(NVARC.symbols)
    # The samples are NVARC's layout: <|im_start|>user\n rows <|im_end|><|im_start|>assistant\n rows <|im_end|> ...
    (sample, *_) = chunk_samples(corpus, 0, CONFIG, NVARC)
    assert sample.ids[:len(NVARC.input_open)] == NVARC.input_open and sample.ids[-1] == NVARC.end
    same = load_model(model_config)
    merge_base_adapter(same, tmp_path / "a", str(hub_model_dir))  # the format it was trained in: accepted
    other = load_model(replace(model_config, format="arcttt"))
    with pytest.raises(ArcError, match="trained in format nvarc"):
        merge_base_adapter(other, tmp_path / "a", str(hub_model_dir))
