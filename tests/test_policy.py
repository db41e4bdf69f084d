"""The adaptive policy (in-context first, stop when converged) and retrieval of neighbour tasks."""

from arcttt.core.config import SolveConfig, override
from arcttt.core.contamination import Guard
from arcttt.core.retrieve import build_pool, features
from arcttt.core.tasks import Example, Task
from arcttt.engine.ttt import CHECK_EVERY
from arcttt.engine.runtime import Runtime
from arcttt.run.pipeline import solve_task
from arcttt.testing import tiny_loaded
from test_ttt import SWAP


def config(**changes):
    """The adaptive policy on the tiny model, with top-level `changes` (converged_loss=0.05)."""
    return override(SolveConfig(), {"expert": "ttt", "model.adapter": "", "policy": "adaptive", "train.steps": 40,
                                    "train.lr": 3e-3, "train.warmup": 0.0, "train.colours": "none",
                                    "train.max_batch_samples": 1, "infer.views": 2, **changes})


def test_adaptive_decisions_are_the_same_for_the_same_seed():
    cfg = config(converged_loss=0.05)
    runs = [solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg) for _ in range(2)]
    assert runs[0].decision == runs[1].decision and runs[0].decision["chose"] == "ttt"
    assert runs[0].train.losses == runs[1].train.losses and runs[0].attempts == runs[1].attempts


def test_a_task_the_model_already_predicts_is_not_trained():
    cfg = config(icl_loss=100.0)
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    assert outcome.decision["chose"] == "in-context" and outcome.train.steps == 0
    assert outcome.decision["probe_loss"] > 0 and len(outcome.attempts) == 1


def test_training_stops_once_converged_and_runs_every_round_otherwise():
    easy = config(converged_loss=100.0)  # any loss counts as converged: the first check stops it
    outcome = solve_task(SWAP, Runtime(easy, tiny_loaded()), easy)
    assert outcome.train.steps == CHECK_EVERY and outcome.decision["stopped"] == "converged"
    strict = config(converged_loss=0.0, max_rounds=2)
    outcome = solve_task(SWAP, Runtime(strict, tiny_loaded()), strict)
    assert outcome.train.steps == 80 and outcome.decision["stopped"] == "all steps"
    assert outcome.attempts[0][0] == SWAP.test[0].output


def grid(rows):
    return tuple(tuple(r) for r in rows)


def flip_task(task_id, seed):
    """Mirror the grid left-right: the same transformation on grids of its own."""
    a = [[(seed + r * 3 + c) % 9 + 1 for c in range(3)] for r in range(3)]
    b = [[(seed * 2 + r + c * 5) % 9 + 1 for c in range(4)] for r in range(2)]
    return Task(task_id, tuple(Example(grid(g), grid([row[::-1] for row in g])) for g in (a, b)),
                (Example(grid(a[::-1]), grid([row[::-1] for row in a[::-1]])),))


def upscale_task(task_id, colour):
    small = grid([[colour, 0], [0, colour]])
    big = grid([[v for v in row for _ in range(3)] for row in small for _ in range(3)])
    return Task(task_id, (Example(small, big), Example(grid([[0, colour]]), grid([[0] * 3 + [colour] * 3] * 3))),
                (Example(small, big),))


def test_retrieval_finds_the_same_kind_of_task_and_never_an_excluded_one():
    evaluated = flip_task("eval-flip", 1)
    renamed = Task("innocent", evaluated.train, evaluated.test)  # the evaluated task under another id
    same_id = flip_task("eval-flip", 7)  # another task that happens to share the evaluated id
    pool_tasks = [renamed, same_id, flip_task("flip-a", 4), flip_task("flip-b", 5),
                  upscale_task("up-a", 2), upscale_task("up-b", 3), upscale_task("up-c", 4)]
    pool = build_pool(pool_tasks, Guard.of([evaluated]))
    assert {t.id for t in pool.tasks} == {"flip-a", "flip-b", "up-a", "up-b", "up-c"}
    assert {t.id for t in pool.nearest(evaluated, 2)} == {"flip-a", "flip-b"}
    assert {t.id for t in pool.nearest(upscale_task("query", 5), 3)} == {"up-a", "up-b", "up-c"}
    # The guard at query time also applies, and a task is never its own neighbour.
    assert "flip-a" not in [t.id for t in pool.nearest(evaluated, 5, exclude=Guard.of([pool_tasks[2]]))]
    assert "up-a" not in [t.id for t in pool.nearest(pool_tasks[4], 5)]


def test_pool_features_are_cached_and_read_back(tmp_path, monkeypatch):
    import arcttt.core.retrieve

    tasks = [flip_task("a", 1), upscale_task("b", 2)]
    first = build_pool(tasks, Guard.of([]), tmp_path)
    assert [p.name.count(".") for p in tmp_path.iterdir()] == [1]  # the cache, no temp left

    def fail(task):
        raise AssertionError("features recomputed despite the cache")

    monkeypatch.setattr(arcttt.core.retrieve, "features", fail)
    again = build_pool(tasks, Guard.of([]), tmp_path)
    assert (again.matrix == first.matrix).all()
    next(tmp_path.iterdir()).write_bytes(b"not a zip file")  # damaged: rebuilt, not a crash
    monkeypatch.undo()
    assert (build_pool(tasks, Guard.of([]), tmp_path).matrix == first.matrix).all()
    assert len(features(tasks[0])) == first.matrix.shape[1]


def test_the_default_pool_holds_no_task_of_any_evaluation_set_nor_of_the_run(tmp_path):
    from arcttt.core.retrieve import EVALUATION, default_pool
    from arcttt.core.tasks import load_source

    run = list(load_source("arc-agi-1/evaluation").tasks)[:3]
    pool = default_pool(run, tmp_path)
    evaluated = [t for name in EVALUATION for t in load_source(name).tasks]
    assert len(EVALUATION) == 5 and len(pool.tasks) > 500
    guard = Guard.of(evaluated + run)
    assert all(guard.reason(t) is None for t in pool.tasks)


def test_neighbour_samples_join_the_training_set():
    pool = build_pool([flip_task("flip-a", 4), upscale_task("up-a", 2)], Guard.of([SWAP]))
    cfg = override(config(converged_loss=0.0, max_rounds=1), {"policy": "fixed", "train.neighbours": 1, "train.neighbour_share": 1.0})
    engine = Runtime(cfg, tiny_loaded())
    engine.pool = pool
    outcome = solve_task(SWAP, engine, cfg)
    alone = solve_task(SWAP, Runtime(override(cfg, {"train.neighbours": 0}), tiny_loaded()),
                       override(cfg, {"train.neighbours": 0}))
    assert len(outcome.neighbours) == 1 and outcome.samples > alone.samples
