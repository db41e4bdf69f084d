"""`arcttt solve` / `pretrain` options: defaults in --help, durations with units, usage errors that
name both flags (exit 2), and the old spellings of renamed flags (working, with a notice)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from arcttt.cli import app

OPTIONS = Path(__file__).parent.parent / "docs" / "OPTIONS.md"


def invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args], env={"COLUMNS": "250"})


def command(name: str):
    return typer.main.get_command(app).commands[name]


def flat(text: str) -> str:
    """Help text with Rich's boxes and line wrapping undone."""
    return " ".join(text.replace("│", " ").split())


def solve(tasks, tmp_path, *args):
    return invoke("solve", tasks, "--out", tmp_path / "p.json", *args)


# --- --help shows every default -----------------------------------------------------------------

def help_rows(name: str) -> dict[str, str]:
    """Each option's row of `arcttt NAME --help` (its continuation lines joined), by option name."""
    rows: dict[str, str] = {}
    current = None
    for line in invoke(name, "--help").stdout.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] == "*":
            cells = cells[1:]
        if cells and cells[0].startswith("--"):
            current = cells[0]
            rows[current] = " ".join(cells)
        elif current and line.startswith("│") and cells:
            rows[current] += " " + " ".join(cells)
    return rows


@pytest.mark.parametrize("name", ["solve", "pretrain", "merge"])
def test_every_option_shows_its_default(name):
    rows = help_rows(name)
    for param in command(name).params:
        if param.hidden or param.param_type_name == "argument" or param.required:
            continue
        assert "[default: " in rows[param.opts[0]], rows[param.opts[0]]


def test_help_shows_the_config_defaults():
    help_text = flat(invoke("solve", "--help").stdout)
    for fragment in ("[default: 32]", "[default: 0.0002]", "[default: greedy]", "[default: embedded]",
                     "[default: predictions.json]"):
        assert fragment in help_text, fragment
    stage1 = flat(invoke("pretrain", "--help").stdout)
    assert "[default: 500]" in stage1 and "[default: 2 x rank]" in stage1


def test_old_spellings_are_hidden_from_help():
    help_text = invoke("solve", "--help").stdout
    assert "--stage1" in help_text and "--task-adapters-in" in help_text
    for old in ("--adapter ", "--no-adapter", "--adapters", "--save-adapters", "--time-budget"):
        assert old not in help_text, old


# --- durations ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [("90s", 90.0), ("5m", 300.0), ("2h", 7200.0), ("1h30m", 5400.0),
                                           ("45", 45.0)])
@pytest.mark.parametrize("option, field", [("--train-budget", "train_budget"), ("--infer-budget", "infer_budget"),
                                           ("--task-budget", "task_budget"), ("--budget", "budget")])
def test_solve_durations_take_units(tasks, tmp_path, solved, option, field, text, seconds):
    result = solve(tasks, tmp_path, option, text)

    assert result.exit_code == 0, result.output
    assert getattr(solved["config"], field) == seconds


@pytest.mark.parametrize("option", ["--train-budget", "--infer-budget", "--task-budget", "--budget"])
def test_a_bad_duration_is_a_usage_error(tasks, tmp_path, option):
    result = solve(tasks, tmp_path, option, "2 hours")

    assert result.exit_code == 2
    assert option in result.stderr and "not a duration" in result.stderr


def test_the_stage1_time_budget_takes_units(tasks, tmp_path, monkeypatch):
    import arcttt.engine.model as model_module
    import arcttt.run.pretrain as pretrain_module

    seen = {}

    def fake_pretrain(loaded, model_config, corpus, config, out, resume, step):
        seen["config"] = config
        return {"held_out_loss": {"after": None}, "steps": 0, "stopped": "test", "tokens": 0,
                "loss_first_20": 0.0, "loss_last_20": 0.0}

    monkeypatch.setattr(model_module, "load_model", lambda config: None)
    monkeypatch.setattr(pretrain_module, "pretrain", fake_pretrain)
    monkeypatch.setattr(pretrain_module, "build_corpus", lambda data, exclude: type("C", (), {"tasks": [], "dropped": []})())
    result = invoke("pretrain", "--data", tasks, "--out", tmp_path / "a", "--time-budget", "1h30m")

    assert result.exit_code == 0, result.output
    assert seen["config"].time_budget == 5400.0


# --- usage errors: exit 2, naming both flags ----------------------------------------------------

CONFLICTS = {
    "epochs without steps 0": (["--epochs", "2"], ["--epochs", "--steps"]),
    "min-prob without dfs": (["--min-prob", "0.2"], ["--min-prob", "--sampler"]),
    "min-prob with greedy": (["--sampler", "greedy", "--min-prob", "0.2"], ["--min-prob", "--sampler"]),
    "policy without ttt": (["--no-ttt", "--policy", "adaptive"], ["--policy", "--no-ttt"]),
    "neighbours without ttt": (["--no-ttt", "--neighbours", "2"], ["--neighbours", "--no-ttt"]),
    "train budget without ttt": (["--no-ttt", "--train-budget", "5m"], ["--train-budget", "--no-ttt"]),
    "steps with a no-ttt config": (["--config", "CONFIGS/cpu-icl.toml", "--steps", "3"], ["--steps", "--no-ttt"]),
    "stage1 and no-stage1": (["--stage1", "x", "--no-stage1"], ["--stage1", "--no-stage1"]),
    "resume and overwrite": (["--resume", "--overwrite"], ["--resume", "--overwrite"]),
    "workers and shard": (["--workers", "2", "--shard", "0/2"], ["--workers", "--shard"]),
    "bad shard": (["--shard", "3/2"], ["--shard"]),
    "value out of range": (["--sampler", "beam"], ["--sampler", "greedy, dfs"]),
    "device": (["--device", "gpu"], ["--device"]),
}


@pytest.mark.parametrize("args, flags", CONFLICTS.values(), ids=CONFLICTS.keys())
def test_conflicting_or_inert_options_are_usage_errors(tasks, tmp_path, solved, args, flags):
    configs = str(Path(__file__).parent.parent / "configs")
    result = solve(tasks, tmp_path, *(a.replace("CONFIGS", configs) for a in args))

    assert result.exit_code == 2, result.output
    assert "config" not in solved  # refused before anything ran
    message = flat(result.stderr)
    for flag in flags:
        assert flag in message, (flag, message)


ACCEPTED = {
    "epochs with steps 0": (["--steps", "0", "--epochs", "2"], lambda c: (c.train.steps, c.train.epochs) == (0, 2.0)),
    "min-prob with dfs": (["--sampler", "dfs", "--min-prob", "0.2"], lambda c: c.infer.min_prob == 0.2),
    "no-ttt alone": (["--no-ttt", "--views", "2"], lambda c: not c.ttt and c.infer.views == 2),
}


@pytest.mark.parametrize("args, check", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_the_same_options_are_fine_where_they_act(tasks, tmp_path, solved, args, check):
    result = solve(tasks, tmp_path, *args)

    assert result.exit_code == 0, result.output
    assert check(solved["config"])


def test_a_stage1_option_out_of_range_is_a_usage_error(tasks, tmp_path):
    result = invoke("pretrain", "--data", tasks, "--out", tmp_path / "a", "--lr", "0")

    assert result.exit_code == 2
    assert "--lr: must be more than 0" in flat(result.stderr)


# --- renamed flags ------------------------------------------------------------------------------

RENAMES = [  # old spelling, new spelling, value (None: a flag), what run() receives
    ("--adapter", "--stage1", "some/dir", lambda seen: seen["config"].model.adapter == "some/dir"),
    ("--no-adapter", "--no-stage1", None, lambda seen: seen["config"].model.adapter == ""),
    ("--adapters", "--task-adapters-in", "saved", lambda seen: seen["options"].task_adapters_in == Path("saved")),
    ("--save-adapters", "--task-adapters-out", "kept", lambda seen: seen["options"].task_adapters_out == Path("kept")),
    ("--time-budget", "--train-budget", "5m", lambda seen: seen["config"].train_budget == 300.0),
]


@pytest.mark.parametrize("old, new, value, check", RENAMES, ids=[r[0] for r in RENAMES])
def test_the_new_spelling_works(tasks, tmp_path, solved, old, new, value, check):
    result = solve(tasks, tmp_path, new, *([value] if value else []))

    assert result.exit_code == 0, result.output
    assert check(solved)
    assert "deprecated" not in result.stderr


@pytest.mark.parametrize("old, new, value, check", RENAMES, ids=[r[0] for r in RENAMES])
def test_the_old_spelling_works_and_warns(tasks, tmp_path, solved, old, new, value, check):
    result = solve(tasks, tmp_path, old, *([value] if value else []))

    assert result.exit_code == 0, result.output
    assert check(solved)
    assert f"arcttt: {old} is deprecated, use {new}" in result.stderr


@pytest.mark.parametrize("old, new, value, check", RENAMES, ids=[r[0] for r in RENAMES])
def test_both_spellings_are_a_usage_error(tasks, tmp_path, solved, old, new, value, check):
    given = [value] if value else []
    result = solve(tasks, tmp_path, old, *given, new, *given)

    assert result.exit_code == 2
    assert f"{old} is the old spelling of {new}" in flat(result.stderr)
    assert "config" not in solved


# --- docs/OPTIONS.md's option table --------------------------------------------------------------

def test_the_docs_list_the_solve_options_as_the_cli_has_them():
    """docs/OPTIONS.md holds the table between markers; regenerate: python -m arcttt.cli_doc solve."""
    from arcttt.cli_doc import options_table

    text = OPTIONS.read_text(encoding="utf-8")
    begin, end = "<!-- options:solve:begin -->\n", "<!-- options:solve:end -->"
    assert text.count(begin) == 1 and text.count(end) == 1, "docs/OPTIONS.md lost its table markers"
    assert text.split(begin, 1)[1].split(end, 1)[0] == options_table("solve")


def test_the_options_table_has_a_row_per_visible_option():
    from arcttt.cli_doc import options_table

    table = options_table("solve")
    assert "| `--steps N` | 32 | Training steps per task (0: use --epochs). |" in table
    assert "| `--ttt` / `--no-ttt` | on |" in table
    assert "--adapters" not in table and "--time-budget" not in table  # hidden old spellings
    visible = [p for p in command("solve").params if not p.hidden]
    assert len(table.splitlines()) == 2 + len(visible)
