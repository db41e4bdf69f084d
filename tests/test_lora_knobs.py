"""The LoRA knobs the anchors use, on both backends: rank-stabilised scaling, LoRA on the
embedding and the head (trained, reset, saved and loaded), dropout, and target modules."""

from dataclasses import replace

import pytest
import torch

from arcttt.core.config import LoraConfig, SolveConfig, load_config, override
from arcttt.core.errors import ArcError
from arcttt.engine.hf import HfLM
from arcttt.engine.lm import LeanLM
from arcttt.engine.runtime import Runtime, build_lm
from arcttt.run.pipeline import solve_task
from arcttt.testing import tiny_gemma, tiny_loaded
from conftest import weights_checksum
from test_lm import random_ids
from test_ttt import SWAP, config

ENDS = ("embed_tokens", "lm_head")
WITH_ENDS = (*LoraConfig().target_modules, *ENDS)


def tiny(name: str):
    return {"llama": lambda: tiny_loaded().model, "gemma3": tiny_gemma}[name]()


def randomised(lm, seed: int = 0, scale: float = 0.1):
    """Every adapter weight drawn at random (B too, so the update is not zero)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in lm.trainable():
            p.copy_(torch.randn(p.shape, generator=generator) * scale)
    return lm


def peft_twin(model, lora: LoraConfig, lean: LeanLM) -> HfLM:
    """The hf backend with the lean adapter's weights."""
    from peft import set_peft_model_state_dict

    hf = HfLM(model, lora)
    set_peft_model_state_dict(hf.model, lean.lora_state())
    return hf


# -- rank-stabilised LoRA -------------------------------------------------------------------------


def test_rslora_scales_the_update_by_alpha_over_sqrt_rank_on_both_backends():
    # rank 4: alpha 8 / sqrt(4) = 4 = alpha 16 / 4, so rsLoRA(alpha 8) must equal LoRA(alpha 16)
    # with the same A and B, and differ from LoRA(alpha 8) (scale 2).
    model = tiny_gemma()
    ids = random_ids(20, batch=2)
    rs, plain16, plain8 = (LoraConfig(rank=4, alpha=8, use_rslora=True), LoraConfig(rank=4, alpha=16),
                           LoraConfig(rank=4, alpha=8))
    lean = {c: randomised(LeanLM(model, c)) for c in (rs, plain16, plain8)}
    with torch.no_grad():
        assert torch.equal(lean[rs](ids), lean[plain16](ids))
        assert not torch.allclose(lean[rs](ids), lean[plain8](ids), atol=1e-3)
        merged = lean[rs].merged_layers()[0].o - lean[plain8].layers[0].o
        half = lean[plain8].merged_layers()[0].o - lean[plain8].layers[0].o
        torch.testing.assert_close(merged, 2 * half)
        hf = {c: peft_twin(tiny_gemma(), c, lean[c]) for c in (rs, plain8)}
        torch.testing.assert_close(hf[rs](ids), lean[rs](ids), atol=2e-4, rtol=1e-4)
        assert not torch.allclose(hf[rs](ids), hf[plain8](ids), atol=1e-3)


def test_a_saved_rslora_adapter_says_so_and_peft_reads_it_with_the_same_scale(tmp_path):
    import json

    from peft import PeftModel

    lora = LoraConfig(rank=4, alpha=8, use_rslora=True)
    lean = randomised(LeanLM(tiny_gemma(), lora))
    lean.save(tmp_path / "a")
    assert json.loads((tmp_path / "a" / "adapter_config.json").read_text())["use_rslora"] is True
    ids = random_ids(12)
    with torch.no_grad():
        peft_model = PeftModel.from_pretrained(tiny_gemma(), str(tmp_path / "a"))
        torch.testing.assert_close(peft_model(input_ids=ids).logits.float(), lean(ids), atol=2e-4, rtol=1e-4)


def test_use_rslora_is_read_from_toml_checked_and_kept_out_of_old_digests(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[lora]\nrank = 256\nalpha = 32\nuse_rslora = true\n")
    assert load_config(path).lora.use_rslora is True
    path.write_text("[lora]\nuse_rslora = 1\n")
    with pytest.raises(ArcError, match="use_rslora must be true or false"):
        load_config(path)
    with pytest.raises(ArcError, match="lora.use_rslora"):
        override(SolveConfig(), {"lora.use_rslora": "yes"})
    assert "use_rslora" not in SolveConfig().digest_dict()["lora"]
    assert override(SolveConfig(), {"lora.use_rslora": True}).digest != SolveConfig().digest


# -- LoRA on the embedding and the head -----------------------------------------------------------


@pytest.mark.parametrize("name", ["llama", "gemma3"])  # both tie the head to the embedding; Gemma scales it
def test_embedding_and_head_lora_computes_what_peft_computes(name):
    lora = LoraConfig(rank=4, alpha=8, target_modules=WITH_ENDS)
    lean = randomised(LeanLM(tiny(name), lora), scale=0.2)
    assert {"embed_tokens_A", "embed_tokens_B", "lm_head_A", "lm_head_B"} <= set(lean.adapters)
    ids = random_ids(20, batch=2)
    with torch.no_grad():
        torch.testing.assert_close(lean(ids), peft_twin(tiny(name), lora, lean)(ids), atol=2e-4, rtol=1e-4)
        # The embedding's and the head's updates each change the function (tied, yet separate).
        for end in ENDS:
            without = LeanLM(tiny(name), lora)
            without.load_state_dict(lean.state_dict())
            without.adapters[f"{end}_B" if end == "lm_head" else f"{end}_A"].zero_()
            assert not torch.allclose(without(ids), lean(ids), atol=1e-3)


def test_the_decoder_folds_the_embedding_and_head_lora_in_and_decodes_the_trained_function():
    model = tiny_gemma(seed=2)
    base = weights_checksum(model)
    lean = randomised(LeanLM(model, LoraConfig(rank=4, alpha=8, target_modules=ENDS)), scale=0.3)
    ids = random_ids(15, batch=3)
    with torch.no_grad():
        decoder = lean.decoder()
        first = decoder.prefill(list(ids), new_tokens=4, pad=0)  # the lean decoder pads nothing
        torch.testing.assert_close(first, lean(ids)[:, -1], atol=1e-4, rtol=1e-4)
        nxt = torch.tensor([3, 5, 7])
        step = decoder.step(nxt)
        torch.testing.assert_close(step, lean(torch.cat([ids, nxt[:, None]], dim=1))[:, -1], atol=1e-4, rtol=1e-4)
    assert weights_checksum(model) == base


@pytest.mark.parametrize("backend", ["lean", "hf"])
def test_embedding_and_head_lora_trains_resets_to_fresh_and_saves_and_loads(backend, tmp_path):
    cfg = config(120, {"model.backend": backend, "lora.target_modules": WITH_ENDS})
    runtime = Runtime(cfg, tiny_loaded())
    assert type(runtime.lm) is (LeanLM if backend == "lean" else HfLM)
    ids = random_ids(12)
    with torch.no_grad():
        fresh = runtime.lm(ids)
    outcome = solve_task(SWAP, runtime, cfg, task_adapters_out=tmp_path)
    assert outcome.attempts[0][0] == SWAP.test[0].output
    assert outcome.train.losses[-1] < 0.05 < outcome.train.losses[0]
    with torch.no_grad():
        trained = runtime.lm(ids)
    assert not torch.allclose(trained, fresh)
    # The saved adapter holds the embedding's and head's LoRA, and no base weights.
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "swap" / "adapter_model.safetensors"))
    assert all("lora_" in key for key in saved)
    assert any("embed_tokens.lora_embedding_A" in k for k in saved) and any("lm_head.lora_B" in k for k in saved)
    runtime.lm.reset()
    with torch.no_grad():
        assert torch.equal(runtime.lm(ids), fresh)
    other = Runtime(override(cfg, {"seed": 7}), tiny_loaded())
    other.lm.load(tmp_path / "swap")
    with torch.no_grad():
        torch.testing.assert_close(other.lm(ids), trained, atol=1e-5, rtol=1e-5)


def test_a_lean_adapter_on_the_embedding_and_head_loads_in_peft(tmp_path):
    from peft import PeftModel

    lora = LoraConfig(rank=4, alpha=8, target_modules=WITH_ENDS)
    lean = randomised(LeanLM(tiny_gemma(), lora), scale=0.2)
    lean.save(tmp_path / "a")
    ids = random_ids(12)
    with torch.no_grad():
        peft_model = PeftModel.from_pretrained(tiny_gemma(), str(tmp_path / "a"))
        torch.testing.assert_close(peft_model(input_ids=ids).logits.float(), lean(ids), atol=2e-4, rtol=1e-4)


# -- dropout and target modules ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["lean", "hf"])
def test_dropout_acts_while_training_only(backend):
    lora = LoraConfig(rank=4, alpha=8, dropout=0.5, target_modules=WITH_ENDS)
    model = tiny_loaded().model
    lm = randomised(build_lm(model, lora, 0, 256, backend), scale=0.3)
    ids = random_ids(12)
    lm.train()
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(0)
        a, b = lm(ids), lm(ids)
    assert not torch.allclose(a, b)
    lm.eval()
    with torch.no_grad():
        assert torch.equal(lm(ids), lm(ids))


def test_only_the_target_modules_get_an_update():
    lean = LeanLM(tiny_loaded().model, LoraConfig(rank=4, alpha=8, target_modules=("q_proj", "lm_head")))
    assert sorted(lean.adapters) == ["lm_head_A", "lm_head_B", "q_proj_A", "q_proj_B"]
    hf = HfLM(tiny_loaded().model, LoraConfig(rank=4, alpha=8, target_modules=("q_proj", "lm_head")))
    names = {n.split(".lora_")[0].rsplit(".", 1)[-1] for n, _ in hf.model.named_parameters() if "lora_" in n}
    assert names == {"q_proj", "lm_head"}


def test_a_target_module_the_model_lacks_is_refused_by_name():
    lora = LoraConfig(target_modules=("q_proj", "fc1"))
    with pytest.raises(ArcError, match=r"backend = lean cannot run .*\['fc1'\] \(lora.target_modules\)"):
        build_lm(tiny_loaded().model, lora, 0, 256, "lean")
    # auto leaves it to the hf backend, which knows every module name, and refuses what is not there.
    with pytest.raises(ArcError, match=r"\['fc1'\] \(lora.target_modules\) are not in the model"):
        build_lm(tiny_loaded().model, lora, 0, 256, "auto")
    assert type(build_lm(tiny_loaded().model, replace(lora, target_modules=WITH_ENDS), 0, 256, "auto")) is LeanLM
