import pytest

from arcttt.core.config import SolveConfig, from_dict, load_config, override, to_toml
from arcttt.core.errors import ArcError


def test_toml_round_trip_and_digest(tmp_path):
    config = override(SolveConfig(), seed=5, train__steps=7, lora__target_modules=("q_proj",))
    path = tmp_path / "c.toml"
    path.write_text(to_toml(config))
    assert load_config(path) == config
    assert config.digest != SolveConfig().digest
    # Where models are cached does not change the predictions, so not the digest either.
    assert override(config, model__cache_dir="/elsewhere").digest == config.digest


def test_partial_file_keeps_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("ttt = false\n[infer]\nviews = 3\n[train]\nlr = 1\n")
    config = load_config(path)
    assert config.ttt is False and config.infer.views == 3 and config.train.lr == 1.0
    assert config.train.steps == SolveConfig().train.steps


@pytest.mark.parametrize("data, message", [
    ({"sed": 1}, "unknown key 'sed'"),
    ({"train": {"steps": "many"}}, r"\[train\]: steps must be int"),
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
    (dict(seed=-1), "seed"),
    (dict(train__batch_size=-1), "train.batch_size"),
    (dict(infer__views=0), "infer.views"),
    (dict(lora__rank=0), "lora.rank"),
    (dict(infer__max_tokens=0), "infer.max_tokens"),
    (dict(train__colours="purple"), "train.colours"),
    (dict(train__lr=float("nan")), "train.lr"),
    (dict(train__warmup=1.5), "train.warmup"),
    (dict(model__device="gpu"), "model.device"),
    (dict(model__dtype="int4"), "model.dtype"),
    (dict(lora__dropout=1.0), "lora.dropout"),
    (dict(lora__target_modules=()), "lora.target_modules"),
    (dict(time_budget=-5.0), "time_budget"),
    (dict(task_budget=float("inf")), "task_budget"),
])
def test_out_of_range_values_are_refused_naming_the_field(change, field):
    with pytest.raises(ArcError, match=f"field {field}: must"):
        override(SolveConfig(), **change)


def test_out_of_range_values_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[infer]\nviews = 0\n")
    with pytest.raises(ArcError, match=r"c.toml, field infer.views: must be in \[1, 1024\], got 0"):
        load_config(path)
