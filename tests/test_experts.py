"""The program expert beside TTT: its answers join the model's, the adaptive policy skips TTT
when a program reproduces every demonstration, and `expert = "program"` loads no model."""

import json

from arcttt.core.config import SolveConfig, override
from arcttt.core.ranking import Ranked, with_programs
from arcttt.core.tasks import Example, Task
from arcttt.engine.runtime import Runtime
from arcttt.run.outputs import sidecar
from arcttt.run.pipeline import solve_task
from arcttt.testing import tiny_loaded
from conftest import run_all

A, B, C, D = ((1,),), ((2,),), ((3,),), ((4,),)


def flip(grid):
    return tuple(tuple(reversed(row)) for row in grid)


# Every output is its input mirrored left-right: a depth-1 program.
MIRROR = Task("mirror", (Example(((1, 2, 3), (4, 5, 6)), flip(((1, 2, 3), (4, 5, 6)))),
                         Example(((7, 0), (0, 8)), flip(((7, 0), (0, 8))))),
              (Example(((1, 0, 2),), flip(((1, 0, 2),))),))
CONFIG = override(SolveConfig(), {"model.adapter": "", "train.steps": 2, "infer.views": 2, "train.colours": "none"})


def test_program_answers_interleave_with_the_models_and_duplicates_keep_their_first_place():
    model = [Ranked(B, 3, 3.0), Ranked(A, 2, 2.0), Ranked(D, 1, 1.0)]
    joined = with_programs(model, (A, C), "interleave")
    assert [r.grid for r in joined] == [A, B, C, D]
    assert [r.grid for r in with_programs(model, (C,), "first")] == [C, B, A, D]
    assert with_programs(model, (), "interleave") == model


def test_the_program_expert_alone_needs_no_model_and_solves_a_mirror_task(tmp_path):
    config = override(CONFIG, {"expert": "program"})
    out = tmp_path / "p.json"
    from arcttt.run.solve import runtime_for

    assert runtime_for(config, with_adapter=True) is None  # what `arcttt solve` runs with: no model
    predictions = run_all([MIRROR], config, out, lambda: None)
    assert predictions["mirror"][0][0] == MIRROR.solutions[0]
    (record,) = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    assert record["status"] == "ok" and record["correct"] == [True] and record["expert"] == "program"
    assert record["programs"] and record["steps"] == 0


def test_adaptive_skips_ttt_when_a_program_reproduces_every_demonstration():
    config = override(CONFIG, {"expert": "both", "policy": "adaptive"})
    outcome = solve_task(MIRROR, Runtime(config, tiny_loaded()), config)
    assert outcome.decision["ttt_skipped"] and outcome.train.steps == 0
    assert outcome.attempts[0][0] == MIRROR.solutions[0]


def test_by_default_a_verified_program_takes_the_place_of_training():
    config = override(CONFIG, {"expert": "both", "policy": "fixed"})
    outcome = solve_task(MIRROR, Runtime(config, tiny_loaded()), config)
    assert outcome.decision["ttt_skipped"] and outcome.train.steps == 0 and outcome.candidates == 0
    assert outcome.attempts[0][0] == MIRROR.solutions[0]


def test_without_the_skip_the_fixed_policy_trains_and_still_puts_the_program_answer_first():
    config = override(CONFIG, {"expert": "both", "policy": "fixed", "programs.skip_ttt": False})
    outcome = solve_task(MIRROR, Runtime(config, tiny_loaded()), config)
    assert outcome.train.steps == 2 and outcome.programs
    assert outcome.attempts[0][0] == MIRROR.solutions[0]
    assert outcome.ranked[0][0].score == float("inf")


def test_the_model_alone_searches_no_program():
    config = override(CONFIG, {"expert": "ttt"})
    outcome = solve_task(MIRROR, Runtime(config, tiny_loaded()), config)
    assert outcome.programs == [] and outcome.program_seconds == 0.0


# Runs in a fresh interpreter where any `import torch` fails: the program expert must not need it.
TORCH_BLOCKED = """
import sys
sys.modules["torch"] = None
from arcttt.cli import main

def cli(*args):
    sys.argv = ["arcttt", *args]
    try:
        main()
    except SystemExit as exc:
        if exc.code:
            raise

cli("solve", {sample!r}, "--expert", "program", "--out", {out!r})
cli("score", {out!r}, "--solutions", {sample!r}, "--json")
print("torch after the run:", sys.modules["torch"])
"""


def test_solve_with_the_program_expert_and_score_run_without_torch(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    out = tmp_path / "p.json"
    script = TORCH_BLOCKED.format(sample=str(sample), out=str(out))
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "torch after the run: None" in done.stdout
    tasks = sorted(path.stem for path in sample.glob("*.json"))
    assert len(tasks) == 5 and sorted(json.loads(out.read_text())) == tasks
    report = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert report["tasks"] == 5 and not report["missing"]
