"""Shared test fixtures: tiny randomly initialised models built on the spot (no download)."""

from __future__ import annotations

import hashlib

import pytest


def tiny_config(vocab_size: int, **special):
    from transformers import LlamaConfig

    # A wide initialisation: the frozen (tied) head must allow confident logits, or LoRA cannot
    # drive the loss down at all.
    settings = dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                    tie_word_embeddings=True, initializer_range=0.2)
    return LlamaConfig(**{**settings, **special})


def tiny_loaded(seed: int = 0, device: str = "cpu", dtype=None):
    """A tiny Llama whose vocabulary already is arcttt's 16 symbols, as `load_model` returns them
    (float32 on the CPU unless told otherwise)."""
    import torch
    from transformers import LlamaForCausalLM

    from arcttt.core.encode import BOS, END, PAD, SYMBOLS
    from arcttt.engine.model import LoadedModel

    dtype = dtype or torch.float32
    torch.manual_seed(seed)
    model = LlamaForCausalLM(tiny_config(len(SYMBOLS), bos_token_id=BOS, eos_token_id=END, pad_token_id=PAD))
    model.to(device=device, dtype=dtype)
    model.requires_grad_(False)
    model.eval()
    return LoadedModel(model, torch.device(device), dtype, "tiny", "none")


# Words of the tiny hub-style tokenizer: specials, the symbols arcttt needs, and some filler.
TOKENIZER_WORDS = ["<unk>", "<s>", "</s>", "<pad>", *"abcdefgh", *"0123456789", "\n", "I", "O", "E", *"xyz"]


def save_tiny_hub_model(directory, seed: int = 0):
    """A tiny Llama + word-level tokenizer saved as a Hugging Face folder, full vocabulary."""
    import torch
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(TOKENIZER_WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>")
    torch.manual_seed(seed)
    model = LlamaForCausalLM(tiny_config(len(vocab), bos_token_id=1, eos_token_id=2, pad_token_id=3))
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return model, tokenizer


@pytest.fixture(scope="session")
def hub_model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-hub-model")
    save_tiny_hub_model(directory)
    return directory


def weights_checksum(model) -> str:
    """A digest of every base (non-LoRA) weight: equal before and after a task, or the base changed."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if "lora_" in name:
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def run_all(tasks, config, out, runtime_factory, on_start=None, on_done=None, solve=None, clock=None, **options):
    """`solve_all` with the run options and hooks as keywords, as most tests want it."""
    from arcttt.run.loop import Hooks, RunOptions, solve_all

    hooks = Hooks()
    if on_start is not None:
        hooks.start = on_start
    if on_done is not None:
        hooks.done = on_done
    extra = {k: v for k, v in (("solve", solve), ("clock", clock)) if v is not None}
    return solve_all(tasks, config, RunOptions(out, **options), runtime_factory, hooks, **extra)


def greedy(lm, prompts, device, max_new_tokens=None, **kwargs):
    """Each prompt's greedy answer (ids through END, log-probability), from the solver's own search."""
    from arcttt.core.encode import MAX_ANSWER_TOKENS
    from arcttt.engine.infer import find_answers

    found = find_answers(lm, prompts, device, max_new_tokens=max_new_tokens or MAX_ANSWER_TOKENS, **kwargs)
    return [answers[0] for answers in found.answers]
