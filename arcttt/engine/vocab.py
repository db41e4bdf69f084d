"""The vocabulary cut: the tokenizer's id of each symbol of a symbol format, and the model's input
embeddings and head cut down to those ids, so that reduced token id i *is* `format.symbols[i]`.

`arcttt.engine.model` cuts a Hugging Face checkpoint this way when it loads it (through
`arcttt.engine.codecs`), `arcttt.engine.embedded` the embedded model once, when it converts it.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from arcttt.core.errors import ArcError
from arcttt.core.formats import ARCTTT, SymbolFormat

ROLES = {"<bos>": "bos_token_id", "<eos>": "eos_token_id", "<pad>": "pad_token_id"}


def _lookup(tokenizer, symbol: str, fmt: SymbolFormat) -> int | None:
    """The tokenizer's own id for one symbol, or None where it has none."""
    if symbol in ROLES:
        return getattr(tokenizer, ROLES[symbol])
    if symbol in fmt.specials:
        token = tokenizer.convert_tokens_to_ids(symbol)
        return None if token is None or token == tokenizer.unk_token_id else token
    pieces = tokenizer.encode(symbol, add_special_tokens=False)
    # SentencePiece tokenizers may put a lone word-start piece first ("▁", "1"): the symbol is
    # the last piece.
    if not pieces:
        return None
    if fmt is not ARCTTT and tokenizer.decode(pieces[-1:]) != symbol:
        return None  # "user" spelt in two pieces has no token of its own (arcttt's lookup predates this check)
    return pieces[-1]


def symbol_token_ids(tokenizer, fmt: SymbolFormat = ARCTTT, rows: int | None = None) -> tuple[list[int], list[str]]:
    """The tokenizer's id for each of the format's symbols, looked up one symbol at a time, all
    distinct; and the symbols that got a stand-in.

    Looking symbols up alone matters: tokenizers merge digits ("12") and newlines ("\\n\\n").
    Where a symbol has no token of its own, or two symbols share one (bos = eos = pad in many
    tokenizers), an unused id from the top of the vocabulary stands in: fine-tuning gives it meaning.
    With the model's `rows`: only ids it has a row for, and once the tokenizer's are used up
    (NVARC's 16 tokens), the rows beyond the tokenizer's.
    """
    ids = [_lookup(tokenizer, symbol, fmt) for symbol in fmt.symbols]
    taken: set[int] = set()
    rows = rows or len(tokenizer)
    top = min(len(tokenizer), rows)
    spares = itertools.chain(range(top - 1, -1, -1), range(rows - 1, top - 1, -1))
    out, standins = [], []
    for symbol, token in zip(fmt.symbols, ids):
        if token is None or token in taken:
            token = next((s for s in spares if s not in taken and s not in ids), None)
            if token is None:
                raise ArcError(f"format {fmt.name}: no unused token id is left to stand in for {symbol!r}")
            standins.append(symbol)
        taken.add(token)
        out.append(token)
    return out, standins


def shrink_vocab(model: nn.Module, token_ids: list[int], fmt: SymbolFormat = ARCTTT) -> nn.Module:
    """Cut input embeddings and lm_head to `token_ids` (in that order), keeping them tied if they were."""
    embeddings = model.get_input_embeddings()
    head = model.get_output_embeddings()
    tied = head is not None and head.weight.data_ptr() == embeddings.weight.data_ptr()
    index = torch.tensor(token_ids, device=embeddings.weight.device)
    embeddings.weight = nn.Parameter(embeddings.weight.data[index].clone(), requires_grad=False)
    embeddings.num_embeddings = len(token_ids)
    embeddings.padding_idx = fmt.pad
    if head is not None:
        if tied:
            head.weight = embeddings.weight
        else:
            head.weight = nn.Parameter(head.weight.data[index].clone(), requires_grad=False)
            if getattr(head, "bias", None) is not None:
                head.bias = nn.Parameter(head.bias.data[index].clone(), requires_grad=False)
        head.out_features = len(token_ids)
    for config in {id(c): c for c in (model.config, model.config.get_text_config())}.values():
        config.vocab_size = len(token_ids)
        config.bos_token_id, config.eos_token_id, config.pad_token_id = fmt.bos, fmt.end, fmt.pad
    generation = getattr(model, "generation_config", None)
    if generation is not None:
        generation.bos_token_id, generation.eos_token_id, generation.pad_token_id = fmt.bos, fmt.end, fmt.pad
    return model
