"""Device placement: dtype and quantization decided from (made-up) device facts, TF32, loading."""

import pytest
import torch

from arcttt.core.config import ModelConfig
from arcttt.core.errors import ArcError
from arcttt.engine.model import load_model
from arcttt.engine.placement import COMFORT, DeviceFacts, count_parameters, enable_tf32, place, resolve_dtype
from arcttt.testing import tiny_config

GIB = 2**30
CPU = DeviceFacts(torch.device("cpu"), "cpu", bf16=True)
OLD_CPU = DeviceFacts(torch.device("cpu"), "cpu", bf16=False)
H100 = DeviceFacts(torch.device("cuda:0"), "NVIDIA H100 80GB HBM3", bf16=True, free_bytes=79 * GIB)
RTX4090 = DeviceFacts(torch.device("cuda:0"), "NVIDIA GeForce RTX 4090", bf16=True, free_bytes=23 * GIB)
T4 = DeviceFacts(torch.device("cuda:0"), "Tesla T4", bf16=False, free_bytes=15 * GIB)


def test_the_embedded_model_and_an_8b_model_stay_bfloat16_on_an_h100():
    for parameters in (268e6, 1.24e9, 8.03e9):
        placement = place("auto", "auto", H100, int(parameters))
        assert (placement.dtype, placement.quantize) == (torch.bfloat16, "none")
        assert "H100" in placement.reason and "not quantized" in placement.reason


def test_an_8b_model_is_quantized_on_a_24gb_card_and_a_1b_model_is_not():
    assert place("auto", "auto", RTX4090, int(8.03e9)).quantize == "4bit"
    assert place("auto", "auto", RTX4090, int(1.24e9)).quantize == "none"


def test_the_threshold_is_a_share_of_the_free_memory():
    limit = int(COMFORT * H100.free_bytes / 2)  # parameters whose bfloat16 weights just fit
    assert place("auto", "auto", H100, limit).quantize == "none"
    assert place("auto", "auto", H100, limit + 1).quantize == "4bit"


def test_without_bfloat16_the_gpu_computes_in_float32_and_the_size_counts_four_bytes():
    placement = place("auto", "auto", T4, int(1.24e9))
    assert (placement.dtype, placement.quantize) == (torch.float32, "none")
    # 4B parameters: 8 GB in bf16 would fit in half of 15 GiB; 16 GB in fp32 does not.
    assert place("auto", "auto", T4, int(4e9)).quantize == "4bit"


def test_what_is_asked_for_is_what_is_used():
    assert place("auto", "4bit", H100, int(268e6)).quantize == "4bit"
    assert place("float32", "none", RTX4090, int(8e9)).dtype == torch.float32
    assert place("float16", "auto", H100, int(1e9)).dtype == torch.float16


def test_an_unknown_size_on_a_gpu_is_quantized_and_the_cpu_never_is_unless_asked():
    assert place("auto", "auto", H100, None).quantize == "4bit"
    assert place("auto", "auto", CPU, int(8e9)).quantize == "none"
    assert "quantize = 4bit or 8bit works on the CPU too" in place("auto", "auto", CPU, int(8e9)).reason
    # bitsandbytes has a CPU backend: what is asked for is what the CPU gets.
    assert [place("auto", q, CPU, None).quantize for q in ("4bit", "8bit")] == ["4bit", "8bit"]


def test_auto_dtype_follows_the_hardware():
    assert resolve_dtype("auto", CPU) == torch.bfloat16
    assert resolve_dtype("auto", OLD_CPU) == torch.float32
    assert resolve_dtype("auto", T4) == torch.float32
    assert resolve_dtype("float32", H100) == torch.float32
    with pytest.raises(ArcError, match="unknown dtype"):
        resolve_dtype("int3", CPU)
    with pytest.raises(ArcError, match="unknown quantization"):
        place("auto", "2bit", H100, 10)


def test_gemma_in_float16_is_refused_with_the_reason():
    with pytest.raises(ArcError, match="overflows in float16"):
        place("float16", "none", H100, int(268e6), "gemma3_text")
    assert place("float16", "none", H100, int(268e6), "llama").dtype == torch.float16


def test_parameters_are_counted_without_memory_and_tied_weights_once():
    from transformers import LlamaForCausalLM

    config = tiny_config(16)
    model = LlamaForCausalLM(config)
    assert count_parameters(config) == sum(p.numel() for p in model.parameters())
    untied = tiny_config(16, tie_word_embeddings=False)
    assert count_parameters(untied) == count_parameters(config) + 16 * config.hidden_size


def test_tf32_is_switched_on_for_cuda_runs():
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("highest")
        enable_tf32()
        assert torch.backends.cuda.matmul.allow_tf32  # what transformers and others read back
    finally:
        torch.set_float32_matmul_precision(before)


def test_the_loaded_model_says_why_it_is_placed_so(hub_model_dir):
    loaded = load_model(ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float32"))
    assert loaded.dtype == torch.float32 and loaded.quantize == "none"
    assert "not quantized by arcttt (auto quantizes only to fit GPU memory" in loaded.placement
    half = load_model(ModelConfig(name=str(hub_model_dir), device="cpu", dtype="float16"))
    assert next(half.model.parameters()).dtype == torch.float16


def test_a_checkpoint_quantized_on_its_own_is_never_called_unquantized():
    from types import SimpleNamespace

    from arcttt.engine.model import quantized_as

    gptq = SimpleNamespace(hf_quantizer=object(), config=SimpleNamespace(
        quantization_config=SimpleNamespace(quant_method="gptq")))
    assert quantized_as(gptq, "none") == "gptq"
    assert quantized_as(SimpleNamespace(hf_quantizer=None, config=None), "none") == "none"
    assert quantized_as(gptq, "4bit") == "4bit"
