"""A knob is declared once (its field): the config's checks, the command line's options, `--set`
and the digest all follow from that declaration."""

from __future__ import annotations

import json

import pytest
from test_cli_options import flat, invoke, solve

from arcttt.core.config import PRETRAIN, RELATIONS, RULES, SOLVE, PretrainConfig, SolveConfig, load_config
from arcttt.core.errors import ArcError
from arcttt.core.knobs import flags_of, knobs_of, path


def test_every_flagged_knob_is_an_option_with_its_default_in_help():
    help_text = flat(invoke("solve", "--help").stdout)
    flagged = flags_of(SolveConfig)
    assert {"steps", "views", "program_depth", "expert"} <= set(flagged)
    for parameter, (knob, spec) in flagged.items():
        name = spec.metadata["flag"].name.split("/")[0]
        assert f"{name} " in help_text, name
        assert spec.metadata["flag"].help.split(".")[0] in help_text, name


def test_the_program_depth_knob_came_with_one_field(tasks, tmp_path, solved):
    # Its field's declaration is all there is: a flag, the check, the default in help, --set.
    result = solve(tasks, tmp_path, "--program-depth", "2", "--expert", "program")
    assert result.exit_code == 0, result.output
    assert solved["config"].programs.max_depth == 2
    assert "Functions composed in one program (1-4). [default: 3]" in flat(invoke("solve", "--help").stdout)
    refused = solve(tasks, tmp_path, "--program-depth", "9", "--expert", "program")
    assert refused.exit_code == 2 and "--program-depth: must be in [1, 4]" in flat(refused.stderr)
    inert = solve(tasks, tmp_path, "--program-depth", "2", "--expert", "ttt")
    assert inert.exit_code == 2 and "--program-depth has no effect with --expert ttt" in flat(inert.stderr)


def test_every_rule_comes_from_a_declaration():
    declared = {(section, name) for section, name, spec in knobs_of(SolveConfig) if spec.metadata.get("check")}
    assert set(RULES) == declared and len(declared) >= 49
    assert ("lora", "rank") in PRETRAIN.rules and ("", "checkpoint_every") in PRETRAIN.rules


@pytest.mark.parametrize("knob", SOLVE.knob_paths())
def test_set_reaches_every_knob(knob):
    default = SolveConfig()
    for part in knob.split("."):
        default = getattr(default, part)
    text = json.dumps(list(default)) if isinstance(default, tuple) else json.dumps(default)
    # The default, given, is valid; a knob that acts only with another's value comes with it.
    needed = [f"{path(*r.needs)}={json.dumps(r.wanted)}" for r in RELATIONS if path(*r.knob) == knob]
    expected = SOLVE.settings(SolveConfig(), needed)
    assert SOLVE.settings(SolveConfig(), [*needed, f"{knob}={text}"]) == expected


def test_set_on_the_command_line(tasks, tmp_path, solved):
    result = solve(tasks, tmp_path, "--set", "train.steps=3", "--set", "infer.sampler=dfs", "--set",
                   "lora.target_modules=[\"q_proj\"]", "--set", "model.name=org/some-model")
    assert result.exit_code == 0, result.output
    config = solved["config"]
    assert (config.train.steps, config.infer.sampler, config.lora.target_modules) == (3, "dfs", ("q_proj",))
    assert config.model.name == "org/some-model"


@pytest.mark.parametrize("setting, message", [
    ("train.stepz=3", "unknown knob 'train.stepz'; known: seed,"),
    ("nosection.steps=3", "unknown knob 'nosection.steps'"),
    ("train.steps", "is not KNOB=VALUE"),
    ("train.steps=many", "steps must be int, got 'many'"),
    ("train.steps=-1", "train.steps: must be at least 0"),
    ("train.epochs=2", "applies only with train.steps = 0 (steps is 32)"),
    ("infer.min_prob=0.3", "applies only with infer.sampler = \"dfs\" (sampler is greedy)"),
])
def test_a_bad_set_is_a_usage_error_that_says_why(tasks, tmp_path, solved, setting, message):
    result = solve(tasks, tmp_path, "--set", setting)
    assert result.exit_code == 2, result.output
    assert "--set" in flat(result.stderr) and message in flat(result.stderr)
    assert "config" not in solved


def test_relations_hold_in_config_files_too(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[train]\nsteps = 32\nepochs = 2.0\n")
    with pytest.raises(ArcError, match=r"c.toml, field train.epochs: applies only with train.steps = 0"):
        load_config(path)
    path.write_text("[train]\nsteps = 0\nepochs = 2.0\n[infer]\nmin_prob = 0.2\n")
    with pytest.raises(ArcError, match=r"field infer.min_prob: applies only with infer.sampler = \"dfs\""):
        load_config(path)
    path.write_text("[train]\nsteps = 0\nepochs = 2.0\n")
    assert load_config(path).train.epochs == 2.0


def test_stage1_knobs_take_set_too():
    config = PRETRAIN.settings(PretrainConfig(), ["steps=7", "lora.dropout=0.1", "time_budget=\"5m\""])
    assert (config.steps, config.lora.dropout, config.time_budget) == (7, 0.1, 300.0)
    with pytest.raises(ArcError, match="unknown knob 'train.steps'"):
        PRETRAIN.settings(PretrainConfig(), ["train.steps=7"])
