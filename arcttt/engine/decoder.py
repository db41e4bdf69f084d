"""The lean backend's decoder (`arcttt.engine.lm.LeanLM.decoder`): batched decoding over one
static KV cache, for prompts of any lengths (sliding layers read only their window), fed one token
or a run of guessed tokens per row per step, and forked where a search branches. The task's LoRA
is merged into working copies of the weights once, before the first step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from arcttt.core.errors import ArcError

if TYPE_CHECKING:
    from arcttt.engine.lm import Layer, LeanLM


class Decoder:
    """Batched greedy-decoding state over one static KV cache.

    Prompts of different lengths share the batch: each equal-length group is prefilled on its own
    (no padding, no mask), its keys and values written so that every row's prompt ends at the same
    cache slot. Decoding then steps all rows at once (on a CPU a step costs one read of the
    weights, whatever the number of rows), each row at its own rotary position.

    A step may feed several tokens per row (a guess to verify, see `infer.decode`): `accept` then
    keeps each row's verified prefix and turns the slots of the rest into holes. Every slot records
    the position it holds (-1: empty or a hole), so masks follow positions, not slots.
    """

    branches = True

    def __init__(self, lm: LeanLM, layers: list[Layer], ends: tuple[torch.Tensor, torch.Tensor] | None = None):
        self.lm, self.layers = lm, layers
        self.lora: dict = {}  # the adapter is folded into `layers` and `ends`
        self.ends = ends if ends is not None else (lm.embed, lm.head)  # embedding and head weights
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.slot = 0
        self.positions = torch.zeros(0, dtype=torch.long)  # next position of each row
        self.slot_positions = torch.zeros(0, 0, dtype=torch.long)
        self.holes = 0  # most holes in any row: how far back a sliding window may reach in slots
        self.fed = 1

    def prefill(self, prompts: list[torch.Tensor], new_tokens: int, pad: int) -> torch.Tensor:
        """Run the prompts (1-D id tensors, any lengths) with room for `new_tokens` more slots each;
        fp32 logits [rows, vocabulary] of each prompt's last position, in the given order. `pad` is
        not used: no prompt is padded here."""
        lm = self.lm
        device = prompts[0].device
        lengths = torch.tensor([len(p) for p in prompts], device=device)
        end = int(lengths.max())
        capacity = end + new_tokens
        if end > lm.max_positions:
            raise ArcError(f"a prompt of {end} tokens exceeds the engine's {lm.max_positions} positions")
        shape = (len(prompts), lm.kv_heads, capacity, lm.head_dim)
        self.keys = [torch.zeros(shape, dtype=lm.dtype, device=device) for _ in self.layers]
        self.values = [torch.zeros(shape, dtype=lm.dtype, device=device) for _ in self.layers]
        logits = torch.empty((len(prompts), lm.head.shape[0]), device=device)
        groups: dict[int, list[int]] = {}
        for row, prompt in enumerate(prompts):
            groups.setdefault(len(prompt), []).append(row)
        for length, rows in groups.items():
            index = torch.tensor(rows, device=device)
            x = lm.embedding(torch.stack([prompts[r] for r in rows]), self.ends[0])
            for i, layer in enumerate(self.layers):
                def attend(h, layer=layer, i=i):
                    q, k, v = lm.qkv(layer, h, self.lora, i)
                    self.keys[i][index, :, end - length:end] = k
                    self.values[i][index, :, end - length:end] = v
                    return lm.attention(q, k, v, layer.sliding)
                x = lm.block(layer, x, self.lora, i, attend)
            logits[index] = lm.logits(x[:, -1], self.ends[1])
        self.slot, self.holes, self.fed = end, 0, 1
        self.positions = lengths.clone()
        slots = torch.arange(capacity, device=device)[None]
        self.slot_positions = torch.where(slots >= (end - lengths)[:, None], slots - (end - lengths)[:, None], -1)
        self.slot_positions[:, end:] = -1
        return logits

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Feed [rows] or [rows, k] tokens (row r's at its next positions); fp32 logits [rows, (k,) vocab].

        Without a later `accept`, every fed token counts (as plain one-token decoding does)."""
        lm = self.lm
        single = tokens.dim() == 1
        tokens = tokens[:, None] if single else tokens
        k = tokens.shape[1]
        if self.slot + k > self.slot_positions.shape[1]:
            raise ArcError("decoding ran past the room reserved at prefill")
        if int(self.positions.max()) + k > lm.max_positions:
            raise ArcError(f"prompt + answer exceed the engine's {lm.max_positions} positions")
        slot = self.slot
        offsets = torch.arange(k, device=tokens.device)
        query_positions = self.positions[:, None] + offsets  # [rows, k]
        self.slot_positions[:, slot:slot + k] = query_positions
        x = lm.embedding(tokens, self.ends[0])
        masks = {}
        for sliding in {layer.sliding for layer in self.layers}:
            first = max(0, slot + 1 - lm.window - self.holes) if sliding else 0  # the first query's window
            keys = self.slot_positions[:, None, first:slot + k]  # [rows, 1, keys]
            allowed = (keys >= 0) & (keys <= query_positions[:, :, None])
            if sliding:
                allowed &= query_positions[:, :, None] - keys < lm.window
            masks[sliding] = (first, allowed[:, None, None])  # [rows, 1, 1, k, keys]
        for i, layer in enumerate(self.layers):
            def attend(h, layer=layer, i=i):
                q, key, value = lm.qkv(layer, h, self.lora, i, query_positions)
                self.keys[i][:, :, slot:slot + k] = key
                self.values[i][:, :, slot:slot + k] = value
                first, allowed = masks[layer.sliding]
                return lm.grouped_attention(q, self.keys[i][:, :, first:slot + k], self.values[i][:, :, first:slot + k],
                                             allowed)
            x = lm.block(layer, x, self.lora, i, attend)
        self.slot = slot + k
        self.positions = self.positions + k
        self.fed = k
        logits = lm.logits(x, self.ends[1])
        return logits[:, 0] if single else logits

    def room(self) -> int:
        """Cache slots left after the last one written."""
        return self.slot_positions.shape[1] - self.slot

    def sibling(self) -> "Decoder":
        """A decoder of its own over the same merged weights (no shared cache)."""
        return Decoder(self.lm, self.layers, self.ends)

    def accept(self, kept: torch.Tensor) -> None:
        """After a step of k tokens a row: row r keeps its first kept[r] (>= 1); the rest become holes."""
        k = self.fed
        start = self.slot - k
        dropped = torch.arange(k, device=kept.device)[None] >= kept[:, None]
        self.slot_positions[:, start:self.slot] = self.slot_positions[:, start:self.slot].masked_fill(dropped, -1)
        self.positions = self.positions - k + kept
        self.holes += int((k - kept).max())

    def fork(self, rows: torch.Tensor, keep: torch.Tensor, room: int) -> "Decoder":
        """A decoder whose row j continues row `rows[j]` of this one from position `keep[j]`:
        the slots of that row's later positions become holes, and `room` empty slots follow.
        The prompt's keys and values are copied, never recomputed (a search branches this way)."""
        new = Decoder(self.lm, self.layers, self.ends)
        end, count = self.slot, len(rows)

        def copy(cache: torch.Tensor) -> torch.Tensor:
            out = cache.new_zeros((count, cache.shape[1], end + room, cache.shape[3]))
            out[:, :, :end] = cache[rows, :, :end]
            return out

        new.keys = [copy(k) for k in self.keys]
        new.values = [copy(v) for v in self.values]
        held = self.slot_positions[rows, :end]
        dropped = held >= keep[:, None]
        new.slot_positions = torch.full((count, end + room), -1, dtype=torch.long, device=rows.device)
        new.slot_positions[:, :end] = held.masked_fill(dropped, -1)
        new.slot, new.positions = end, keep.clone()
        new.holes = self.holes + int(dropped.sum(1).max()) if count else self.holes
        return new
