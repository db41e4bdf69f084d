"""Tiny randomly initialised models for tests, the scripts' `--quick` runs and rehearsals.

Built in process from a seed, nothing downloaded: a few hundred thousand parameters that run the
whole pipeline in seconds on a CPU. The same seed gives the same weights, bit for bit, so tests
may compare checksums. torch and transformers are imported inside the functions, so that
`import arcttt.testing` stays as cheap as `import arcttt`.

- `tiny_loaded`: a Llama whose vocabulary already is arcttt's symbols, as `load_model` returns one;
- `save_tiny_hub_model`: a Llama and a word-level tokenizer saved as a Hugging Face folder, for
  everything that loads a model by path (the CLI, subprocesses, `torchrun`);
- `tiny_model` (`tiny_config`): any of the supported architectures at the same tiny shape;
  `tiny_gemma`, `tiny_qwen3`, `tiny_mistral`: those with norm weights that matter, for comparing
  engines.
"""

from __future__ import annotations

from pathlib import Path

SHAPE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             max_position_embeddings=4096, initializer_range=0.2)
"""The tiny shape every architecture shares. A wide initialisation: a frozen (tied) head must
allow confident logits, or LoRA cannot drive the loss down at all."""

ARCHITECTURES = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(tie_word_embeddings=True)),
    # Mistral-NeMo-Minitron (the ARChitects' base) has an untied head.
    "mistral": ("MistralConfig", "MistralForCausalLM", dict(head_dim=16, tie_word_embeddings=False)),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(head_dim=16, tie_word_embeddings=True)),
    "gemma3": ("Gemma3TextConfig", "Gemma3ForCausalLM",
               dict(head_dim=16, query_pre_attn_scalar=16, sliding_window=8,
                    layer_types=["sliding_attention", "full_attention"])),
}
"""transformers' config and model class of each architecture, and what it adds to `SHAPE`."""

TOKENIZER_WORDS = ["<unk>", "<s>", "</s>", "<pad>", *"abcdefgh", *"0123456789", "\n", "I", "O", "E", *"xyz"]
"""The tiny hub tokenizer's words: specials, the symbols arcttt needs, and some filler."""


def tiny_config(vocab_size: int, arch: str = "llama", **settings):
    """The tiny shape's transformers config for `arch`; `settings` override any field."""
    import transformers

    config_class = getattr(transformers, ARCHITECTURES[arch][0])
    return config_class(**{**SHAPE, **ARCHITECTURES[arch][2], "vocab_size": vocab_size, **settings})


def tiny_model(arch: str, vocab_size: int, seed: int = 0, *, norms: float | None = None, dtype=None, **settings):
    """A tiny random `arch` model from `seed`, frozen, in eval mode, on the CPU.

    `norms` redraws every norm weight around that value (sd 0.3), so that a wrong norm convention
    (1 + w against w) or scale shows in a comparison; `dtype` casts before that redraw.
    """
    import torch
    import transformers

    torch.manual_seed(seed)
    model = getattr(transformers, ARCHITECTURES[arch][1])(tiny_config(vocab_size, arch, **settings))
    if dtype is not None:
        model.to(dtype)
    if norms is not None:
        for name, p in model.named_parameters():
            if "norm" in name:
                p.data.normal_(norms, 0.3)
    model.requires_grad_(False)
    return model.eval()


def tiny_loaded(seed: int = 0, device: str = "cpu", dtype=None):
    """A tiny Llama whose vocabulary already is arcttt's symbols, as `load_model` returns them
    (float32 unless told otherwise)."""
    import torch

    from arcttt.core.encode import BOS, END, PAD, SYMBOLS
    from arcttt.engine.model import LoadedModel

    dtype = dtype or torch.float32
    model = tiny_model("llama", len(SYMBOLS), seed, bos_token_id=BOS, eos_token_id=END, pad_token_id=PAD)
    model.to(device=device, dtype=dtype)
    return LoadedModel(model, torch.device(device), dtype, "tiny", "none")


def save_tiny_hub_model(directory: str | Path, seed: int = 0):
    """A tiny Llama and a word-level tokenizer (`TOKENIZER_WORDS`) saved as a Hugging Face folder,
    full vocabulary; returns both."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(TOKENIZER_WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>")
    model = tiny_model("llama", len(vocab), seed, bos_token_id=1, eos_token_id=2, pad_token_id=3)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return model, tokenizer


def tiny_gemma(seed: int = 0, window: int = 8, dtype=None):
    """A tiny Gemma 3 on arcttt's symbols, as the embedded model is built: three layers, sliding
    window `window` around a global one, one key-value head, norm weights spread around 0 (Gemma
    stores them as w in 1 + w)."""
    from arcttt.core.encode import BOS, END, PAD, SYMBOLS

    return tiny_model("gemma3", len(SYMBOLS), seed, norms=0.0, dtype=dtype, num_hidden_layers=3, num_key_value_heads=1,
                      head_dim=32, query_pre_attn_scalar=32, sliding_window=window,
                      layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                      bos_token_id=BOS, eos_token_id=END, pad_token_id=PAD, attn_implementation="sdpa")


def tiny_qwen3(seed: int = 0):
    """A tiny Qwen3 (the NVARC base's architecture) on arcttt's symbols, norms spread around 1."""
    from arcttt.core.encode import SYMBOLS

    return tiny_model("qwen3", len(SYMBOLS), seed, norms=1.0, attn_implementation="sdpa")


def tiny_mistral(seed: int = 0, sliding_window: int | None = None):
    """A tiny Mistral on arcttt's symbols, norms spread around 1; without a sliding window by
    default, as Mistral-NeMo-Minitron (the ARChitects' base) is."""
    from arcttt.core.encode import SYMBOLS

    return tiny_model("mistral", len(SYMBOLS), seed, norms=1.0, sliding_window=sliding_window, rope_theta=1e6,
                      attn_implementation="sdpa")
