"""Every CUDA path on tiny randomly initialised models (skipped without CUDA): bf16 and 4-bit TTT
learn, resets are exact, GPU decoding agrees with the CPU's, placement reads the real device."""

import numpy as np
import pytest
import torch

from arcttt.core.config import LoraConfig, SolveConfig, override
from arcttt.core.encode import encode
from arcttt.engine.lm import LeanLM
from arcttt.engine.model import load_model
from arcttt.engine.runtime import Runtime
from arcttt.run.pipeline import solve_task
from arcttt.testing import save_tiny_hub_model, tiny_gemma, tiny_loaded
from conftest import greedy, weights_checksum
from test_lm import answer_prompts
from test_ttt import SWAP, config

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]
CUDA = torch.device("cuda")


def has_bitsandbytes() -> bool:
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("engine", ["lean", "hf"])
def test_bf16_ttt_turns_a_wrong_prediction_into_the_right_one(engine):
    cfg = config(changes={"model.backend": engine})
    truth = SWAP.test[0].output
    before = solve_task(SWAP, Runtime(config(0), tiny_loaded(device="cuda", dtype=torch.bfloat16), with_adapter=True),
                        config(0))
    assert truth not in before.attempts[0]
    after = solve_task(SWAP, Runtime(cfg, tiny_loaded(device="cuda", dtype=torch.bfloat16)), cfg)
    assert after.attempts[0][0] == truth and after.train.losses[-1] < 0.05


@pytest.mark.skipif(not has_bitsandbytes(), reason="needs bitsandbytes")
def test_4bit_ttt_turns_a_wrong_prediction_into_the_right_one(tmp_path):
    save_tiny_hub_model(tmp_path)
    cfg = override(config(), {"model.name": str(tmp_path), "model.quantize": "4bit", "model.device": "cuda"})
    engine = Runtime(cfg)
    assert engine.loaded.quantize == "4bit" and engine.loaded.dtype == torch.bfloat16
    assert type(engine.lm).__name__ == "HfLM"
    truth = SWAP.test[0].output
    before = solve_task(SWAP, Runtime(override(cfg, {"train.steps": 0, "ttt": False}), load_model(cfg.model),
                                     with_adapter=True), override(cfg, {"train.steps": 0, "ttt": False}))
    assert truth not in before.attempts[0]
    after = solve_task(SWAP, engine, cfg)
    assert after.attempts[0][0] == truth and after.train.losses[-1] < 0.05


@pytest.mark.parametrize("engine", ["lean", "hf"])
def test_adapter_reset_is_exact_on_the_gpu(engine):
    cfg = config(40, {"model.backend": engine})
    loaded = tiny_loaded(device="cuda", dtype=torch.bfloat16)
    run = Runtime(cfg, loaded)
    base = weights_checksum(loaded.model)
    ids = torch.tensor([encode(SWAP.train, SWAP.test[0], with_answer=False).ids], device=CUDA)
    with torch.no_grad():
        fresh = run.lm(ids)
    solve_task(SWAP, run, cfg)
    run.lm.reset()
    with torch.no_grad():
        assert torch.equal(run.lm(ids), fresh)
    if engine == "lean":  # peft wraps layers, renaming the base's weights
        assert weights_checksum(loaded.model) == base


def test_bf16_decoding_on_the_gpu_agrees_with_float32_on_the_cpu():
    model = tiny_gemma(seed=2).to(CUDA, torch.bfloat16)
    base = weights_checksum(model)
    lean = LeanLM(model, LoraConfig(rank=4, alpha=8), seed=3)
    reference = LeanLM(tiny_gemma(seed=2), LoraConfig(rank=4, alpha=8), seed=3)
    with torch.no_grad():
        for p, q in zip(reference.trainable(), lean.trainable()):
            p.normal_(0, 0.05)
            q.copy_(p)
    prompts = answer_prompts([11, 11, 23, 7])
    on_gpu = greedy(lean, prompts, CUDA, max_new_tokens=40)
    on_cpu = greedy(reference, prompts, torch.device("cpu"), max_new_tokens=40)
    agree = np.mean([a == b for (x, _), (y, _) in zip(on_gpu, on_cpu) for a, b in zip(x, y)])
    assert agree >= 0.95  # bf16 rounding may flip a near-tie; the answers are the same function
    assert weights_checksum(model) == base


def test_placement_reads_the_device_and_keeps_a_small_model_bf16(hub_model_dir):
    loaded = load_model(override(SolveConfig(), {"model.name": str(hub_model_dir)}).model)
    assert loaded.device.type == "cuda" and loaded.quantize == "none" and loaded.dtype == torch.bfloat16
    assert torch.cuda.get_device_name(0) in loaded.placement
    assert torch.backends.cuda.matmul.allow_tf32


@pytest.mark.skipif(not has_bitsandbytes(), reason="needs bitsandbytes")
def test_a_real_4bit_base_trains_beside_an_unmerged_stage1_adapter(tmp_path):
    from dataclasses import replace

    from safetensors.torch import load_file

    from arcttt.core.config import ModelConfig
    from arcttt.run.pretrain import build_corpus, pretrain
    from test_pretrain import CONFIG as STAGE1, TRAIN, base_weights

    save_tiny_hub_model(tmp_path / "model")
    plain = ModelConfig(name=str(tmp_path / "model"), device="cuda", quantize="none", adapter="")
    pretrain(load_model(plain), plain, build_corpus([("train", TRAIN)], []), replace(STAGE1, steps=4, lr=1e-2),
             tmp_path / "stage1")
    cfg = override(config(), {"model.name": str(tmp_path / "model"), "model.device": "cuda", "model.quantize": "4bit", "model.adapter": str(tmp_path / "stage1")})
    engine = Runtime(cfg)
    assert engine.loaded.quantize == "4bit" and type(engine.lm).__name__ == "HfLM"
    state = engine.lm.model.state_dict()
    stage1 = {k: v.clone() for k, v in state.items() if ".stage1." in k}
    base = base_weights(engine.lm.model)
    ids = torch.tensor([encode(SWAP.train, SWAP.test[0], with_answer=False).ids], device=CUDA)
    with torch.no_grad():
        fresh = engine.lm(ids)
    outcome = solve_task(SWAP, engine, cfg, task_adapters_out=tmp_path / "ttt")
    assert outcome.attempts[0][0] == SWAP.test[0].output
    after = engine.lm.model.state_dict()
    assert stage1 and all(torch.equal(after[k], v) for k, v in stage1.items())
    assert all(torch.equal(v, base[k]) for k, v in base_weights(engine.lm.model).items())
    saved = load_file(tmp_path / "ttt" / "swap" / "adapter_model.safetensors")
    assert saved and not any("stage1" in k for k in saved)
    engine.lm.reset()
    with torch.no_grad():
        assert torch.equal(engine.lm(ids), fresh)
