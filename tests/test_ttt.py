"""TTT on a tiny randomly initialised model: learning, resets, determinism, saved adapters."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from arcttt.core.config import SolveConfig, override
from arcttt.core.encode import PAD, encode
from arcttt.core.tasks import Example, Task
from arcttt.engine.ttt import masked_loss
from arcttt.engine.runtime import Runtime
from arcttt.run.pipeline import solve_task
from arcttt.testing import tiny_loaded
from conftest import weights_checksum

# A fixed colour swap (1 <-> 2) on single cells: learnable by LoRA on a tiny model in seconds.
SWAP = Task("swap", tuple(Example(((a,),), ((b,),)) for a, b in [(1, 2), (2, 1), (1, 2), (2, 1)]),
            (Example(((1,),), ((2,),)),))
OTHER = Task("other", tuple(Example(((c,),), ((c, c),)) for c in (3, 4, 5)), (Example(((6,),), ((6, 6),)),))


def config(steps=300, changes=None):
    """The tests' TTT config: `steps` steps of the tiny model, then `changes` ({"seed": 1})."""
    return override(SolveConfig(), {"expert": "ttt", "ttt": steps > 0, "model.adapter": "", "train.steps": steps,
                                    "train.lr": 3e-3, "train.warmup": 0.0, "train.colours": "none",
                                    "train.max_batch_samples": 1, "infer.views": 2, **(changes or {})})


def test_ttt_turns_a_wrong_prediction_into_the_exact_answer():
    truth = SWAP.test[0].output
    before = solve_task(SWAP, Runtime(config(0), tiny_loaded(), with_adapter=True), config(0))
    assert truth not in before.attempts[0]
    after = solve_task(SWAP, Runtime(config(), tiny_loaded()), config())
    assert after.attempts[0][0] == truth
    assert after.train.steps == 300 and after.train.losses[-1] < 0.01 < after.train.losses[0]


def test_base_weights_stay_unchanged_and_the_adapter_is_reset_between_tasks():
    engine = Runtime(config(40), tiny_loaded())
    base = weights_checksum(engine.loaded.model)
    ids = torch.tensor([encode(OTHER.train, OTHER.test[0], with_answer=False).ids])
    with torch.no_grad():
        fresh_logits = engine.lm(ids)
    solve_task(SWAP, engine, config(40))
    assert weights_checksum(engine.loaded.model) == base
    with torch.no_grad():
        trained_logits = engine.lm(ids)
    assert not torch.allclose(trained_logits, fresh_logits)
    engine.lm.reset()
    with torch.no_grad():
        assert torch.equal(engine.lm(ids), fresh_logits)
    # And the task after is solved exactly as if it were the first.
    first = solve_task(OTHER, Runtime(config(40), tiny_loaded()), config(40))
    after_swap = solve_task(OTHER, engine, config(40))
    assert after_swap.attempts == first.attempts and after_swap.train.losses == first.train.losses


def test_same_seed_same_output_and_another_seed_differs():
    runs = [solve_task(SWAP, Runtime(config(30, {"seed": s}), tiny_loaded()), config(30, {"seed": s})) for s in (1, 1, 2)]
    assert runs[0].attempts == runs[1].attempts and runs[0].train.losses == runs[1].train.losses
    assert runs[0].train.losses != runs[2].train.losses


def test_saved_adapters_reproduce_predictions_without_training(tmp_path):
    trained = solve_task(SWAP, Runtime(config(), tiny_loaded()), config(), task_adapters_out=tmp_path)
    assert (tmp_path / "swap" / "adapter_model.safetensors").exists()
    engine = Runtime(config(), tiny_loaded())
    reused = solve_task(SWAP, engine, config(), task_adapters_in=tmp_path)
    assert reused.train.steps == 0 and reused.attempts == trained.attempts


def test_train_budget_stops_training_early():
    cfg = override(config(10_000), {"train_budget": 1e-9})
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    assert outcome.train.steps == 1


def test_masked_loss_counts_only_target_positions():
    ids = torch.tensor([[0, 1, 2]])
    logits = torch.zeros(1, 3, 16)
    logits[0, 0, 1] = 100.0  # position 0 predicts token 1 perfectly; position 1 is uniform
    only_first = torch.tensor([[False, True, False]])
    both = torch.tensor([[False, True, True]])
    assert masked_loss(logits, ids, only_first).item() == pytest.approx(0.0, abs=1e-6)
    assert masked_loss(logits, ids, both).item() == pytest.approx(np.log(16) / 2, rel=1e-4)


@pytest.mark.parametrize("engine", ["lean", "hf"])
def test_both_engines_learn_the_task(engine):
    cfg = config(changes={"model.backend": engine})
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    assert outcome.attempts[0][0] == SWAP.test[0].output and outcome.train.losses[-1] < 0.01


def test_token_budget_batches_train_on_every_sample_each_epoch():
    cfg = override(config(), {"train.steps": 0, "train.epochs": 2.0, "train.max_batch_samples": 0, "train.batch_tokens": 64})
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    assert outcome.train.samples == 2 * outcome.samples and outcome.train.steps < outcome.train.samples


def long_context_task():
    """Three 6x6 demonstrations: ~130 tokens each, so a 200-token budget must drop context."""
    grid = tuple(tuple((r + c) % 9 + 1 for c in range(6)) for r in range(6))
    pairs = tuple(Example(grid, tuple(row[::-1] for row in grid)) for _ in range(3))
    return Task("long", pairs, (Example(grid, tuple(row[::-1] for row in grid)),))


def test_training_sees_the_context_inference_sees_unless_told_otherwise():
    from arcttt.core.samples import task_samples

    task = long_context_task()
    rng = lambda: np.random.default_rng(0)  # noqa: E731
    derived = task_samples(task, override(config(), {"infer.max_tokens": 4096}), rng())
    assert all(not e.dropped for e in derived)  # 0 means: the inference budget
    tight = task_samples(task, override(config(), {"train.max_tokens": 200}), rng())
    assert any(e.dropped for e in tight) and all(len(e) <= 200 for e in tight)


def test_the_log_records_dropped_context_demonstrations():
    task = long_context_task()
    cfg = override(config(4), {"train.max_tokens": 200, "infer.max_tokens": 200 + 80})
    outcome = solve_task(task, Runtime(cfg, tiny_loaded()), cfg)
    record = outcome.record("digest")
    assert record["dropped_train"] > 0 and record["dropped_infer"] > 0
    assert record["samples_trained"] == 4 and record["steps"] == 4


def test_answers_are_not_capped_below_the_largest_grid(monkeypatch):
    from arcttt.core.encode import MAX_ANSWER_TOKENS
    from arcttt.engine import infer

    seen = {}

    def capture(lm, prompts, device, batch_prompts=16, max_new_tokens=MAX_ANSWER_TOKENS, **options):
        seen["cap"] = max_new_tokens
        return infer.Answers([[([13], 0.0)]] * len(prompts), [])

    monkeypatch.setattr(infer, "find_answers", capture)
    cfg = config(0)
    solve_task(SWAP, Runtime(cfg, tiny_loaded(), with_adapter=True), cfg)
    assert seen["cap"] == MAX_ANSWER_TOKENS  # a 1x1 task may still answer 30x30


def test_float16_training_scales_the_loss_and_learns_the_task():
    cfg = config()
    engine = Runtime(cfg, tiny_loaded(dtype=torch.float16))
    outcome = solve_task(SWAP, engine, cfg)
    assert outcome.attempts[0][0] == SWAP.test[0].output and outcome.train.losses[-1] < 0.01
    assert all(torch.isfinite(p).all() for p in engine.lm.trainable())


def test_a_float16_step_whose_gradients_overflow_is_skipped_not_applied():
    from arcttt.core.seeding import task_rng
    from arcttt.engine.ttt import train
    from arcttt.core.samples import task_samples

    cfg = config(1)
    engine = Runtime(cfg, tiny_loaded(dtype=torch.float16))
    samples = task_samples(SWAP, cfg, task_rng(0, SWAP.id, "train"))
    fresh = {name: p.detach().clone() for name, p in engine.lm.adapters.items()}
    calls = []

    def overflow_once(grad):
        calls.append(1)
        return grad * float("inf") if len(calls) == 1 else grad

    handle = engine.lm.adapters["q_proj_B"].register_hook(overflow_once)
    try:
        train(engine.lm, samples, cfg.train, np.random.default_rng(0), torch.device("cpu"), pad=PAD)
        assert all(torch.equal(p, fresh[name]) for name, p in engine.lm.adapters.items())
        train(engine.lm, samples, replace(cfg.train, steps=5), np.random.default_rng(0), torch.device("cpu"), pad=PAD)
    finally:
        handle.remove()
    assert not torch.equal(engine.lm.adapters["q_proj_B"], fresh["q_proj_B"])
    assert all(torch.isfinite(p).all() for p in engine.lm.trainable())


def loop_before_the_merge(lm, samples, config, rng, device, converged=None, pad=PAD):
    """`ttt.train` as it was before stage 1 and TTT shared one loop (verbatim but for the deadline,
    unused here, `lm(ids)`: gradient checkpointing is now the LM's construction setting, and the
    padding id passed in)."""
    from transformers import get_cosine_schedule_with_warmup

    from arcttt.core.outcome import TrainStats
    from arcttt.engine.ttt import CHECK_EVERY, Stepper, collate, make_optimizer, token_batches, total_steps

    stats = TrainStats()
    params = lm.trainable()
    optimizer = make_optimizer(params, config.lr, config.weight_decay)
    step = Stepper(optimizer, params, device, lm.dtype)
    lengths = [len(s) for s in samples]
    n_steps = total_steps(lengths, config)
    schedule = get_cosine_schedule_with_warmup(optimizer, round(config.warmup * n_steps), n_steps)
    batches, losses = [], []
    lm.train()
    for _ in range(n_steps):
        if not batches:
            batches = token_batches(lengths, config.batch_tokens, rng, config.max_batch_samples)
        batch = [samples[i] for i in batches.pop()]
        ids, targets = collate(batch, device, pad)
        loss = masked_loss(lm(ids), ids, targets)
        step(loss)
        schedule.step()
        stats.steps += 1
        stats.samples += len(batch)
        stats.tokens += sum(len(s) for s in batch)
        losses.append(loss.detach())
        if (converged is not None and stats.steps % CHECK_EVERY == 0 and stats.steps < n_steps
                and float(torch.stack(losses[-CHECK_EVERY:]).mean()) <= converged):
            stats.stopped = "converged"
            break
    lm.eval()
    stats.losses = torch.stack(losses).float().tolist()
    return stats


@pytest.mark.parametrize("backend, changes, converged", [
    ("lean", {"train.steps": 0, "train.epochs": 3.0, "train.max_batch_samples": 0, "train.batch_tokens": 40,
              "train.warmup": 0.2}, None),  # several epochs of token batches, a warm-up
    ("lean", {"train.steps": 60}, 0.5),  # stops once converged
    ("hf", {"train.steps": 12, "train.weight_decay": 0.1}, None),
])
def test_the_shared_loop_trains_exactly_as_the_loop_before_it(backend, changes, converged):
    from arcttt.core.samples import task_samples
    from arcttt.core.seeding import task_rng
    from arcttt.engine.ttt import train

    cfg = override(config(), {"model.backend": backend, **changes})
    samples = task_samples(SWAP, cfg, task_rng(0, SWAP.id, "train"))
    runs = []
    for loop in (loop_before_the_merge, train):
        lm = Runtime(cfg, tiny_loaded()).lm
        stats = loop(lm, samples, cfg.train, np.random.default_rng(5), torch.device("cpu"), converged=converged,
                     pad=PAD)
        runs.append((stats, [p.detach().clone() for p in lm.trainable()]))
    (old, old_weights), (new, new_weights) = runs
    assert (new.steps, new.samples, new.tokens, new.stopped) == (old.steps, old.samples, old.tokens, old.stopped)
    assert new.losses == old.losses and len(new.losses) == new.steps
    assert all(torch.equal(a, b) for a, b in zip(old_weights, new_weights))
    if converged is not None:
        assert new.stopped == "converged" and new.steps < 60


def test_the_loop_reads_no_loss_from_the_device_unless_asked():
    from arcttt.core.samples import task_samples
    from arcttt.core.seeding import task_rng
    from arcttt.engine.ttt import Stepper, epochs, make_optimizer, run_steps, warmup_cosine

    cfg = config(10)
    lm = Runtime(cfg, tiny_loaded()).lm
    samples = task_samples(SWAP, cfg, task_rng(0, SWAP.id, "train"))
    params = lm.trainable()
    step = Stepper(make_optimizer(params, cfg.train.lr), params, torch.device("cpu"), lm.dtype)
    pending = []

    def look(stats, losses):
        pending.append(len(losses.pending))
        if stats.steps == 6:
            losses.read()  # a caller that asks (stage 1's log, TTT's convergence check)
        return "enough" if stats.steps == 8 else ""

    stats = run_steps(lm, step, warmup_cosine(step.optimizer, 0.0, 10), epochs(samples, cfg.train, np.random.default_rng(0)),
                      10, torch.device("cpu"), after_step=look, pad=PAD)
    assert pending == [1, 2, 3, 4, 5, 6, 1, 2] and stats.stopped == "enough" and stats.steps == 8
    assert len(stats.losses) == 8 and all(loss > 0 for loss in stats.losses)
