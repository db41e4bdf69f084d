"""Model loading on tiny hub-style models built in the test: vocabulary reduction, errors, devices."""

import os
import subprocess
import sys

import pytest
import torch

from arcttt.core.config import ModelConfig
from arcttt.core.encode import BOS, END, NL, PAD, SYMBOLS
from arcttt.engine.model import load_model
from arcttt.engine.vocab import shrink_vocab, symbol_token_ids
from arcttt.testing import TOKENIZER_WORDS, tiny_config
from conftest import SAMPLE


def test_symbols_map_to_the_tokenizers_own_ids(hub_model_dir):
    from transformers import AutoTokenizer

    ids = symbol_token_ids(AutoTokenizer.from_pretrained(hub_model_dir))[0]
    assert [TOKENIZER_WORDS[i] for i in ids[:14]] == list(SYMBOLS[:14])
    assert TOKENIZER_WORDS[ids[BOS]] == "<s>" and TOKENIZER_WORDS[ids[PAD]] == "<pad>"


def test_missing_and_shared_symbols_get_distinct_spare_ids():
    class Merging:  # a tokenizer with no pad token and no "E", like many hub tokenizers
        bos_token_id, pad_token_id = 0, None

        def encode(self, text, add_special_tokens=False):
            return [] if text == "E" else [100 + ord(text[-1]) % 50]

        def __len__(self):
            return 1000

    ids = symbol_token_ids(Merging())[0]
    assert len(set(ids)) == len(SYMBOLS)
    assert ids[PAD] >= 990 and ids[END] >= 990


def test_loading_a_local_folder_reduces_the_vocabulary_keeping_rows_and_ties(hub_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    full = AutoModelForCausalLM.from_pretrained(hub_model_dir)
    ids = symbol_token_ids(AutoTokenizer.from_pretrained(hub_model_dir))[0]
    loaded = load_model(ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32"))
    model = loaded.model
    assert model.get_input_embeddings().weight.shape == (len(SYMBOLS), 64)
    assert torch.equal(model.get_input_embeddings().weight, full.get_input_embeddings().weight[ids])
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    assert model.config.vocab_size == len(SYMBOLS) and model.config.eos_token_id == END
    # The reduced model computes the same logits as the full one, restricted to the symbols.
    prompt = [BOS, 1, 2, NL]
    with torch.no_grad():
        small = model(input_ids=torch.tensor([prompt])).logits
        big = full(input_ids=torch.tensor([[ids[t] for t in prompt]])).logits[..., ids]
    assert torch.allclose(small, big, atol=1e-5)


def test_untied_heads_are_sliced_too():
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(tiny_config(40, tie_word_embeddings=False))
    head = model.lm_head.weight.detach().clone()
    shrink_vocab(model, list(range(20, 36)))
    assert torch.equal(model.lm_head.weight, head[20:36])
    assert model.lm_head.weight is not model.get_input_embeddings().weight


def test_a_model_that_cannot_be_found_offline_is_a_clear_error(tmp_path):
    # huggingface_hub reads HF_HUB_OFFLINE when imported: set it for a fresh process, as a user would.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "arcttt", "solve", str(SAMPLE), "--model", "no-such-org/no-such-model",
                          "--out", str(tmp_path / "p.json")], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1].startswith(
        "arcttt: error: cannot load model 'no-such-org/no-such-model' (offline: HF_HUB_OFFLINE is set): ")
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("bits", ["4bit", "8bit"])
def test_quantization_on_the_cpu_computes_nearly_the_unquantized_function(hub_model_dir, bits):
    # bitsandbytes' CPU backend: asked for, 4-bit and 8-bit load on the CPU (training: tests/test_quantized.py).
    bnb = pytest.importorskip("bitsandbytes")
    plain = load_model(ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", quantize="none"))
    loaded = load_model(ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32", quantize=bits))
    kind = bnb.nn.Linear4bit if bits == "4bit" else bnb.nn.Linear8bitLt
    assert loaded.quantize == bits and sum(isinstance(m, kind) for m in loaded.model.modules()) == 2 * 7
    ids = torch.tensor([[14, 11, 1, 2, 10, 12, 3]])
    with torch.no_grad():
        exact, quantized = plain.model(ids).logits, loaded.model(ids).logits
    assert not torch.equal(exact, quantized)
    # NF4 on 64-wide layers of a wide initialisation loses more than 8-bit does.
    similarity = torch.nn.functional.cosine_similarity(exact.flatten(), quantized.flatten(), dim=0)
    assert similarity > {"4bit": 0.9, "8bit": 0.98}[bits]
