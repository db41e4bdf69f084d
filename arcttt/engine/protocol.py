"""The language-model interface both backends implement: what training and decoding may call.

The lean backend (`engine.lm`, its decoder `engine.decoder`) implements all of it. The hf backend (`engine.hf`, transformers +
peft) implements training and greedy decoding; what it cannot do (branching a decoding state,
which the depth-first search, answer scoring and speculative decoding need) it refuses with an
`ArcError` that names the lean backend, never silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Decoder(Protocol):
    """Batched incremental decoding over a key/value cache."""

    branches: bool
    """True when `fork`, `accept`, `sibling` and steps of several tokens a row work."""
    positions: torch.Tensor
    """Each row's next position after `prefill` (where its answer starts)."""

    def prefill(self, prompts: list[torch.Tensor], new_tokens: int, pad: int) -> torch.Tensor:
        """Take the prompts (one row each) with room for `new_tokens` more; each row's next-token
        logits. `pad`: the codec's padding id, for a decoder that pads prompts to one length
        (masked: no real token reads it)."""

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Feed one token a row ([batch]: logits [batch, vocab]) or k ([batch, k]: [batch, k, vocab])."""

    def room(self) -> int:
        """Cache slots left for further tokens (a step of k tokens a row takes k)."""

    def accept(self, kept: torch.Tensor) -> None:
        """After a step of k tokens a row, row r keeps its first `kept[r]` of them."""

    def fork(self, rows: torch.Tensor, keep: torch.Tensor, room: int) -> Decoder:
        """A decoder whose row j continues row `rows[j]` from position `keep[j]`, `room` slots free."""

    def sibling(self) -> Decoder:
        """A fresh decoder over the same (merged) weights, sharing no cache with this one."""


@runtime_checkable
class LM(Protocol):
    """A causal language model over a codec's token ids with one trainable task adapter."""

    def reset(self) -> None:
        """Back to the fresh adapter (the base model's function), gradients cleared."""

    def trainable(self) -> list[torch.nn.Parameter]:
        """The parameters training updates (the task adapter's)."""

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits [batch, length, vocab] (float32) of right-padded ids [batch, length]."""

    def decoder(self) -> Decoder:
        """A decoder over the current adapter."""

    def save(self, directory: Path) -> None:
        """Write the task adapter (safetensors, peft's layout) into `directory`."""

    def load(self, directory: Path) -> None:
        """Put a saved task adapter in place of the current one (ArcError if it does not fit)."""

    def train(self, mode: bool = True): ...

    def eval(self): ...
