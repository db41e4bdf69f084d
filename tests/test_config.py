from pathlib import Path

import pytest

from arcttt.core.config import ADDED_SINCE_DIGEST, SolveConfig, from_dict, load_config, override, to_toml
from arcttt.core.errors import ArcError


def test_toml_round_trip_and_digest(tmp_path):
    config = override(SolveConfig(), {"seed": 5, "train.steps": 7, "lora.target_modules": ("q_proj",)})
    path = tmp_path / "c.toml"
    path.write_text(to_toml(config))
    assert load_config(path) == config
    assert config.digest != SolveConfig().digest
    # Where models are cached does not change the predictions, so not the digest either.
    assert override(config, {"model.cache_dir": "/elsewhere"}).digest == config.digest


def test_partial_file_keeps_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("ttt = false\n[infer]\nviews = 3\n[train]\nlr = 1\n")
    config = load_config(path)
    assert config.ttt is False and config.infer.views == 3 and config.train.lr == 1.0
    assert config.train.steps == SolveConfig().train.steps


@pytest.mark.parametrize("data, message", [
    ({"sed": 1}, "unknown key 'sed'"),
    ({"train": {"steps": "many"}}, r"\[train\], field train.steps: steps must be int"),
    ({"ttt": 1}, "ttt must be true or false"),
    ({"lora": []}, r"\[lora\] must be a table"),
])
def test_bad_configs_name_the_key(data, message):
    with pytest.raises(ArcError, match=message):
        from_dict(data, "c.toml")


def test_not_toml(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("seed = = 1")
    with pytest.raises(ArcError, match="c.toml: not TOML"):
        load_config(path)


def test_every_shipped_preset_loads():
    from pathlib import Path

    presets = sorted((Path(__file__).parent.parent / "configs").glob("*.toml"))
    assert {p.name for p in presets} >= {"cpu-ttt.toml", "cpu-icl.toml", "gpu-1b-qlora.toml", "gpu-8b-qlora.toml"}
    loaded = {p.name: load_config(p) for p in presets}
    assert loaded["cpu-icl.toml"].ttt is False and loaded["gpu-8b-qlora.toml"].lora.rank == 128


@pytest.mark.parametrize("change, field", [
    ({"seed": -1}, "seed"),
    ({"train.max_batch_samples": -1}, "train.max_batch_samples"),
    ({"infer.views": 0}, "infer.views"),
    ({"lora.rank": 0}, "lora.rank"),
    ({"infer.max_tokens": 0}, "infer.max_tokens"),
    ({"train.colours": "purple"}, "train.colours"),
    ({"train.lr": float("nan")}, "train.lr"),
    ({"train.warmup": 1.5}, "train.warmup"),
    ({"model.device": "gpu"}, "model.device"),
    ({"model.dtype": "int4"}, "model.dtype"),
    ({"lora.dropout": 1.0}, "lora.dropout"),
    ({"lora.target_modules": ()}, "lora.target_modules"),
    ({"train_budget": -5.0}, "train_budget"),
    ({"task_budget": float("inf")}, "task_budget"),
])
def test_out_of_range_values_are_refused_naming_the_field(change, field):
    with pytest.raises(ArcError, match=f"field {field}: must"):
        override(SolveConfig(), change)


def test_out_of_range_values_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[infer]\nviews = 0\n")
    with pytest.raises(ArcError, match=r"c.toml, field infer.views: must be in \[1, 1024\], got 0"):
        load_config(path)


# --- one schema for both configs ----------------------------------------------------------------

@pytest.mark.parametrize("schema", ["SOLVE", "PRETRAIN"])
def test_every_rule_names_a_field_of_its_config(schema):
    import arcttt.core.config as config_module

    chosen = getattr(config_module, schema)
    defaults = chosen.root()
    for section, name in chosen.rules:
        assert hasattr(getattr(defaults, section) if section else defaults, name), (section, name)


def test_pretrain_config_round_trips_and_keeps_its_lora_defaults(tmp_path):
    from arcttt.core.config import load_pretrain_config, pretrain_to_toml

    path = tmp_path / "p.toml"
    path.write_text("steps = 7\n[lora]\nalpha = 8\n")
    config = load_pretrain_config(path)
    assert (config.steps, config.lora.rank, config.lora.alpha) == (7, 32, 8)  # rank: stage 1's default
    path.write_text(pretrain_to_toml(config))
    assert load_pretrain_config(path) == config


def test_pretrain_values_are_checked_by_its_own_rules():
    from arcttt.core.config import pretrain_from_dict

    with pytest.raises(ArcError, match="p.toml, field steps: must be at least 1, got 0"):
        pretrain_from_dict({"steps": 0}, "p.toml")


# --- durations ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("90s", 90.0), ("5m", 300.0), ("2h", 7200.0), ("1h30m", 5400.0), ("1h 30m 15s", 5415.0), ("1.5h", 5400.0),
    ("45", 45.0), ("2.5", 2.5),
])
def test_durations_take_units(text, seconds):
    from arcttt.core.knobs import parse_duration

    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2x", "h", "5m2", "-5", "1h-30m", "ninety"])
def test_bad_durations_are_refused(text):
    from arcttt.core.knobs import parse_duration

    with pytest.raises(ArcError, match="not a duration"):
        parse_duration(text)


SOLVE_DURATIONS = ("train_budget", "infer_budget", "task_budget", "budget")


@pytest.mark.parametrize("key", SOLVE_DURATIONS)
def test_every_solve_duration_takes_units_in_toml(key):
    assert getattr(from_dict({key: "1h30m"}), key) == 5400.0
    assert getattr(from_dict({key: 90}), key) == 90.0  # plain seconds, as before


def test_the_stage1_time_budget_takes_units_in_toml():
    from arcttt.core.config import pretrain_from_dict

    assert pretrain_from_dict({"time_budget": "2h"}).time_budget == 7200.0


def test_the_duration_fields_are_the_seconds_valued_ones():
    from dataclasses import fields

    from arcttt.core.config import PretrainConfig
    from arcttt.core.knobs import is_duration

    assert tuple(f.name for f in fields(SolveConfig) if is_duration(f)) == SOLVE_DURATIONS
    assert [f.name for f in fields(PretrainConfig) if is_duration(f)] == ["time_budget"]


def test_a_bad_duration_in_a_file_names_file_and_field(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('budget = "2 hours"\n')
    with pytest.raises(ArcError, match=r"c.toml, field budget: not a duration: '2 hours'"):
        load_config(path)


# --- presets extend one another -----------------------------------------------------------------

def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_merges_sections_key_by_key(tmp_path):
    write(tmp_path / "base.toml", "seed = 3\nttt = false\n[train]\nsteps = 5\nlr = 0.5\n[infer]\nviews = 4\n")
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\nseed = 4\n[train]\nsteps = 7\n')

    config = load_config(child)

    assert (config.seed, config.ttt) == (4, False)  # top level: the child's, else the parent's
    assert (config.train.steps, config.train.lr, config.infer.views) == (7, 0.5, 4)
    assert config.train.batch_tokens == SolveConfig().train.batch_tokens  # neither: the default


def test_extends_chains_relative_to_each_files_folder(tmp_path):
    write(tmp_path / "root.toml", "[train]\nsteps = 5\nlr = 0.5\n")
    write(tmp_path / "mid" / "mid.toml", 'extends = "../root.toml"\n[train]\nlr = 0.25\n')
    leaf = write(tmp_path / "leaf" / "leaf.toml", 'extends = "../mid/mid.toml"\n[infer]\nviews = 2\n')

    config = load_config(leaf)

    assert (config.train.steps, config.train.lr, config.infer.views) == (5, 0.25, 2)


def test_the_effective_config_of_an_extending_file_is_complete(tmp_path):
    write(tmp_path / "base.toml", "[train]\nsteps = 5\n")
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\n[infer]\nviews = 3\n')
    text = to_toml(load_config(child))

    assert "extends" not in text and "steps = 5" in text and "views = 3" in text
    assert load_config(write(tmp_path / "effective.toml", text)) == load_config(child)


def test_an_extends_cycle_is_refused_naming_the_files(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')

    with pytest.raises(ArcError, match="extends makes a cycle") as raised:
        load_config(a)
    assert f"{a} -> {tmp_path / 'b.toml'} -> {tmp_path / 'a.toml'}" in str(raised.value)


def test_a_file_extending_itself_is_refused(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "./a.toml"\n')
    with pytest.raises(ArcError, match="extends makes a cycle"):
        load_config(a)


def test_a_missing_parent_is_named(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "gone.toml"\n')
    with pytest.raises(ArcError, match=r"gone.toml: cannot read"):
        load_config(child)


def test_a_bad_value_inherited_names_the_chain(tmp_path):
    write(tmp_path / "base.toml", "[infer]\nviews = 0\n")
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\n')
    with pytest.raises(ArcError, match=r"child.toml \(extending .*base.toml\), field infer.views: must be in"):
        load_config(child)


def test_stage1_configs_extend_too(tmp_path):
    from arcttt.core.config import load_pretrain_config

    write(tmp_path / "base.toml", "steps = 9\n[lora]\nrank = 8\n")
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\nlr = 0.001\n')
    config = load_pretrain_config(child)
    assert (config.steps, config.lr, config.lora.rank, config.lora.alpha) == (9, 0.001, 8, 64)


# Digests of every shipped preset, recorded before the presets were rewritten to extend one
# another (and before knobs were renamed): leaderboard records and run states refer to them.
PRESET_DIGESTS = {
    "architects-poe.toml": "e58510afa09a1a35",
    "cpu-qlora.toml": "8bd64d9b51c1f7e4",
    "marc-8b.toml": "c55f7ae3a247d2cb",
    "nvarc.toml": "1a18fbec676b4149",
    "ci-smoke.toml": "f7450390d88c5079",  # since the program expert: the default solver, not TTT alone
    "cpu-icl-bare.toml": "003884270a41245b",
    "cpu-icl-stage1-v1.toml": "a6feca2eb060e520",
    "cpu-icl.toml": "fd986e447db4a111",
    "cpu-ttt-adaptive-10m.toml": "31901606a33a0717",
    "cpu-ttt-adaptive-15m.toml": "ee6fd8782ecfef61",
    "cpu-ttt-adaptive-nb-10m.toml": "582627edbd7af392",
    "cpu-ttt-adaptive-nb-15m.toml": "138c714906304e78",
    "cpu-ttt-bare.toml": "9aceb8203969837f",
    "cpu-ttt-budget-10m.toml": "5177752ad54c66d8",
    "cpu-ttt-budget-15m.toml": "96442872fac47dc2",
    "cpu-ttt-dfs-poe-votes.toml": "6e1cdb96fcefebc5",
    "cpu-ttt-dfs-poe.toml": "2e9cfbf3f9820c5a",
    "cpu-ttt-dfs-product.toml": "94c68abe6f12677e",
    "cpu-ttt-dfs.toml": "692b7f36a2a5b9de",
    "cpu-ttt-fast.toml": "89ba6cc62be4ce2b",
    "cpu-ttt-poe.toml": "2307c9580881129c",
    "cpu-ttt-seq.toml": "9c115f2f8ad6eb81",
    "cpu-ttt.toml": "ebc0c1318a887bb1",
    "gpu-1b-qlora.toml": "a56c90d5339e7079",
    "gpu-1b.toml": "11f165e16179687a",
    "gpu-8b-qlora.toml": "8bba7a6b9c2a9458",
    "gpu-ttt.toml": "1c219258f6d4b49e",
    # Added with the program expert; new again with program search II (a 10 s default limit):
    "cpu-programs.toml": "8519a539f841843b",
    "cpu-combined.toml": "1e24f43769355cae",
    "cpu-combined-adaptive.toml": "c40710128f93eada",
    "cpu-combined-noskip.toml": "33f3aed2d46d6810",
    # The checked TTT policy (issue 30), alone and with the default under an equal budget:
    "cpu-combined-checked.toml": "73d5a928bb176309",
    "cpu-combined-budget-4m30s.toml": "675ee94c3c14d40c",
    "cpu-checked-budget-4m30s.toml": "89cefdfff9fd35bf",
    "cpu-combined-budget-7m.toml": "8748b719e2294a40",
    "cpu-checked-budget-7m.toml": "d22e9fdac2b1da6c",
    "cpu-combined-budget-10m.toml": "290a8626b6655d7b",
    "cpu-checked-budget-10m.toml": "49ae788a664ebb10",
    # The size rule held to the model's decoding (issue 27, item 7), alone and in the default:
    "cpu-ttt-size.toml": "725a44baf5fdb480",
    "cpu-combined-size.toml": "58eb5aa2b2e8c7c5",
}
PRESETS = Path(__file__).parent.parent / "configs"


@pytest.mark.parametrize("name", sorted(PRESET_DIGESTS))
def test_each_preset_keeps_its_digest(name):
    assert load_config(PRESETS / name).digest == PRESET_DIGESTS[name]


def test_every_preset_has_a_recorded_digest():
    assert {p.name for p in PRESETS.glob("*.toml")} == set(PRESET_DIGESTS)


def test_renamed_knobs_keep_the_digest_under_their_old_names():
    import hashlib
    import json

    # expert = "ttt" is the solver as it was when those digests were recorded (no program search).
    config = override(SolveConfig(), {"expert": "ttt", "train_budget": 5.0, "model.backend": "hf", "train.max_batch_samples": 2, "infer.batch_prompts": 3})
    old = config.to_dict()
    del old["expert"], old["programs"]
    for section, name in ADDED_SINCE_DIGEST:  # knobs added since, at their defaults, are not hashed
        del (old[section] if section and name else old)[name or section]  # ("", knob): a top-level one
    old["time_budget"] = old.pop("train_budget")
    old["model"]["engine"] = old["model"].pop("backend")
    old["train"]["batch_size"] = old["train"].pop("max_batch_samples")
    old["infer"]["batch_size"] = old["infer"].pop("batch_prompts")
    old["model"].pop("cache_dir")
    assert config.digest == hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]


def test_old_key_names_load_with_a_notice_and_are_written_under_the_new_ones(tmp_path, capsys):
    path = tmp_path / "old.toml"
    path.write_text("time_budget = 5\n[model]\nengine = \"hf\"\n[train]\nbatch_size = 2\n[infer]\nbatch_size = 3\n")

    config = load_config(path)

    assert (config.train_budget, config.model.backend, config.train.max_batch_samples, config.infer.batch_prompts) \
        == (5.0, "hf", 2, 3)
    notices = capsys.readouterr().err
    assert f"{path}: [train] batch_size is deprecated, it is now max_batch_samples" in notices
    assert f"{path}: time_budget is deprecated, it is now train_budget" in notices
    text = to_toml(config)
    assert "train_budget = 5.0" in text and "backend = \"hf\"" in text and "batch_size" not in text


def test_old_and_new_name_together_are_refused(tmp_path):
    path = tmp_path / "both.toml"
    path.write_text("[infer]\nbatch_size = 3\nbatch_prompts = 4\n")
    with pytest.raises(ArcError, match=r"\[infer\] batch_size is the old name of batch_prompts"):
        load_config(path)


def test_an_added_knob_leaves_the_digest_alone_at_its_default(monkeypatch):
    import arcttt.core.config as config_module

    import hashlib
    import json

    adaptive = override(SolveConfig(), {"policy": "adaptive"})
    recorded = SolveConfig().digest_dict()
    del recorded["policy"], recorded["lora"], recorded["model"]["cache_dir"]
    # Pretend `policy` and the whole [lora] section were added after the digests were recorded.
    monkeypatch.setattr(config_module, "ADDED_SINCE_DIGEST",
                        config_module.ADDED_SINCE_DIGEST + (("", "policy"), ("lora", "")))

    assert SolveConfig().digest == hashlib.sha256(json.dumps(recorded, sort_keys=True).encode()).hexdigest()[:16]
    assert adaptive.digest != SolveConfig().digest  # set away from the default: hashed
    assert override(SolveConfig(), {"lora.rank": 3}).digest != SolveConfig().digest
    data = SolveConfig().digest_dict()
    assert "policy" not in data and "lora" not in data and adaptive.digest_dict()["policy"] == "adaptive"
