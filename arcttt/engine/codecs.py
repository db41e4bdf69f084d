"""The codec a model's tasks are written with (`arcttt.core.formats`): the format asked for, or
recognised from the checkpoint (`model.format = auto`), with what the model's own tokenizer adds.

A symbol format cuts a Hugging Face checkpoint's vocabulary to its symbols (`arcttt.engine.vocab`,
saying which got a stand-in id); a text format keeps the tokenizer (`TextCodec`). The embedded
model runs any symbol format: its vocabulary is cut when it is converted (`arcttt.engine.embedded`).
"""

from __future__ import annotations

from torch import nn

from arcttt.core.config import EMBEDDED, ModelConfig
from arcttt.core.errors import ArcError, notice
from arcttt.core.formats import (ARCHITECTS, ARCTTT, NVARC, SYMBOL_FORMATS, TEXT_FORMATS, Codec, SymbolFormat,
                                 TextCodec, published_for)
from arcttt.engine.libraries import loading, quiet_libraries
from arcttt.engine.vocab import shrink_vocab, symbol_token_ids


def embedded_format(config: ModelConfig) -> SymbolFormat:
    """The embedded model runs any symbol format (its cache is cut per format); arcttt's by default."""
    if config.format in ("auto", ARCTTT.name):
        return ARCTTT
    if config.format not in SYMBOL_FORMATS:
        raise ArcError(f"the embedded model runs the symbol formats ({', '.join(SYMBOL_FORMATS)}), "
                       f"not {config.format!r}: its vocabulary is cut when it is converted")
    return SYMBOL_FORMATS[config.format]


def recognise_format(name: str, tokenizer) -> tuple[str, str]:
    """The format a checkpoint was trained on, where it can be told, and how it was told."""
    vocab = tokenizer.get_vocab()
    if len(tokenizer) == len(NVARC.symbols) and all(s in vocab for s in NVARC.specials):
        return NVARC.name, "its 16-token NVARC vocabulary"
    named = published_for(name)
    if named is not None:
        return named, f"the model id names the {named} checkpoints"
    if len(tokenizer) < 1000 and all(c in vocab for c in "I+/-=O"):
        return ARCHITECTS.name, "a single-character vocabulary with the ARChitects' markers I+/-=O"
    return ARCTTT.name, "no anchor's checkpoint recognised"


def codec_for(config: ModelConfig, tokenizer, model: nn.Module) -> Codec:
    """The codec a Hugging Face checkpoint is run with: a symbol format cuts the model's vocabulary
    to its symbols (saying which got a stand-in id), a text format keeps the tokenizer."""
    codec, ids = tokenizer_codec(config, tokenizer, model.get_output_embeddings().weight.shape[0])
    if ids is not None:
        shrink_vocab(model, ids, codec)
    return codec


def tokenizer_codec(config: ModelConfig, tokenizer, vocab: int) -> tuple[Codec, list[int] | None]:
    """The checkpoint's codec and, for a symbol format, the tokenizer's id of each symbol."""
    if config.format == "auto":
        name, why = recognise_format(config.name, tokenizer)
        notice(f"arcttt: {config.name}: format {name} ({why}; set model.format to choose)")
    else:
        name = config.format
    if name in TEXT_FORMATS:
        return text_codec(TEXT_FORMATS[name], tokenizer, vocab), None
    fmt = SYMBOL_FORMATS[name]
    ids, standins = symbol_token_ids(tokenizer, fmt, vocab)
    real = [s for s in standins if s != "<pad>"]  # padding is never read: any id does
    if real and published_for(config.name) == fmt.name:
        raise ArcError(f"{config.name!r} is published for the {fmt.name} format, but its tokenizer has no token "
                       f"of its own for {', '.join(map(repr, real))}: a stand-in would not be the token it was "
                       "trained on (is this the right tokenizer?)")
    if standins:
        notice(f"arcttt: {config.name}: format {fmt.name}: stand-in ids (trained from scratch) for "
               f"{', '.join(map(repr, standins))}")
    return fmt, ids


def load_codec(config: ModelConfig) -> tuple[Codec, list[int] | None]:
    """The codec `load_model` would give, from the tokenizer and config alone (no weights), and
    for a symbol format on a Hugging Face checkpoint its tokenizer's id of each symbol."""
    from transformers import AutoConfig, AutoTokenizer

    quiet_libraries()
    if config.name == EMBEDDED:
        return embedded_format(config), None
    with loading(config.name):
        tokenizer = AutoTokenizer.from_pretrained(config.name, trust_remote_code=config.trust_remote_code)
        hf_config = AutoConfig.from_pretrained(config.name, trust_remote_code=config.trust_remote_code)
    return tokenizer_codec(config, tokenizer, hf_config.get_text_config().vocab_size)


def text_codec(fmt, tokenizer, vocab: int) -> TextCodec:
    """A text format read by the model's own tokenizer; the answer ends at the end-of-turn token."""
    end = tokenizer.convert_tokens_to_ids(fmt.eot)
    if end is None or end == tokenizer.unk_token_id:
        raise ArcError(f"format {fmt.name} ends each answer with {fmt.eot!r}, which the tokenizer of this model "
                       "does not have as a token")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else end

    def offsets(text: str) -> list[tuple[int, int]]:
        return tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]

    return TextCodec(fmt, lambda text: tokenizer.encode(text, add_special_tokens=False),
                     lambda ids: tokenizer.decode(ids), end, vocab, pad,
                     offsets if getattr(tokenizer, "is_fast", False) else None)
