"""4-bit bases on the CPU (bitsandbytes' CPU backend): a pre-quantized checkpoint, as the
ARChitects publish theirs (a tiny Mistral in their format), loads as it is, trains a TTT adapter
with its base bits untouched and predicts; `quantize = "4bit"` quantizes a bf16/fp32 checkpoint."""

import hashlib
import json

import pytest
import torch

from arcttt.core.config import override
from arcttt.core.formats import ARCHITECTS
from arcttt.engine.hf import HfLM
from arcttt.engine.model import load_model
from arcttt.engine.runtime import Runtime
from arcttt.run.pipeline import solve_task
from arcttt.testing import tiny_model
from test_ttt import SWAP, config

bnb = pytest.importorskip("bitsandbytes")

# The tokenizer's words: specials, then every character of the ARChitects' format, one token each.
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]
WORDS = SPECIALS + [s for s in ARCHITECTS.symbols if not s.startswith("<")] + ["x", "y"]


def architects_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    backend.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")


@pytest.fixture(scope="module")
def prequantized(tmp_path_factory):
    """A 4-bit NF4 checkpoint saved by transformers, config.json with its quantization_config."""
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    root = tmp_path_factory.mktemp("mistral-architects")
    # Untied head and no sliding window, as Mistral-NeMo-Minitron.
    mistral = tiny_model("mistral", len(WORDS), seed=2, sliding_window=None, bos_token_id=1, eos_token_id=2,
                         pad_token_id=3)
    mistral.save_pretrained(root / "full", safe_serialization=True)
    nf4 = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                             bnb_4bit_compute_dtype=torch.float32)
    quantized = AutoModelForCausalLM.from_pretrained(root / "full", quantization_config=nf4, dtype=torch.float32)
    quantized.save_pretrained(root / "4bit", safe_serialization=True)
    architects_tokenizer().save_pretrained(root / "4bit")
    return root / "4bit"


def packed(model) -> tuple[int, str]:
    """How many 4-bit linear layers the model has, and a digest of their packed weights and scales
    as a checkpoint stores them. (On CPUs with AVX-512 BF16, bitsandbytes moves the packed bits into
    a kernel-friendly order at the first forward pass without gradients; its state dict gives the
    stored order back, bit for bit.)"""
    digest, count = hashlib.sha256(), 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            count += 1
            for key, tensor in sorted(module.state_dict().items()):
                digest.update(key.encode())
                digest.update(tensor.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return count, digest.hexdigest()


def qlora_config(name: str, steps: int = 300, changes=None):
    return config(steps, {"model.name": name, "model.device": "cpu", "model.dtype": "float32", **(changes or {})})


def test_the_checkpoint_carries_its_quantization_config(prequantized):
    quantization = json.loads((prequantized / "config.json").read_text())["quantization_config"]
    assert quantization["load_in_4bit"] is True and quantization["bnb_4bit_quant_type"] == "nf4"


def test_a_prequantized_mistral_loads_as_it_is_trains_a_ttt_adapter_keeps_its_bits_and_predicts(prequantized):
    cfg = qlora_config(str(prequantized), changes={"model.format": "architects"})
    loaded = load_model(cfg.model)
    assert loaded.quantize == "bitsandbytes" and loaded.codec is ARCHITECTS
    layers, before = packed(loaded.model)
    assert layers == 2 * 7  # every projection of both blocks stays 4-bit; the vocabulary is cut
    assert loaded.model.get_output_embeddings().weight.shape[0] == len(ARCHITECTS.symbols)
    runtime = Runtime(cfg, loaded)
    assert isinstance(runtime.lm, HfLM) and runtime.precision == "float32/bitsandbytes"
    untrained = solve_task(SWAP, Runtime(qlora_config(str(prequantized), 0, {"model.format": "architects"}),
                                         load_model(cfg.model), with_adapter=True),
                           qlora_config(str(prequantized), 0, {"model.format": "architects"}))
    assert SWAP.test[0].output not in untrained.attempts[0]
    outcome = solve_task(SWAP, runtime, cfg)
    assert packed(loaded.model) == (layers, before)
    assert outcome.train.steps == 300 and outcome.train.losses[-1] < 0.05 < outcome.train.losses[0]
    assert outcome.attempts[0][0] == SWAP.test[0].output


def test_quantize_4bit_quantizes_an_unquantized_checkpoint_on_the_cpu_and_trains(hub_model_dir):
    cfg = qlora_config(str(hub_model_dir), changes={"model.quantize": "4bit"})
    loaded = load_model(cfg.model)
    assert loaded.quantize == "4bit" and loaded.device.type == "cpu"
    layers, before = packed(loaded.model)
    assert layers == 2 * 7
    runtime = Runtime(cfg, loaded)
    assert isinstance(runtime.lm, HfLM)
    outcome = solve_task(SWAP, runtime, cfg)
    assert packed(loaded.model) == (layers, before)
    assert outcome.train.losses[-1] < 0.05 < outcome.train.losses[0]
    assert outcome.attempts[0][0] == SWAP.test[0].output


def test_quantized_weights_refuse_the_lean_backend_by_name(hub_model_dir):
    from arcttt.core.errors import ArcError

    cfg = override(qlora_config(str(hub_model_dir), changes={"model.quantize": "4bit"}), {"model.backend": "lean"})
    with pytest.raises(ArcError, match="backend = lean cannot run .*quantized weights; use backend = hf or auto"):
        Runtime(cfg)
