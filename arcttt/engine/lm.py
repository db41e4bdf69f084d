"""A lean decoder for the model families arcttt knows, with per-task LoRA built in.

Hugging Face models with peft spend most of a CPU step on per-op overhead: ~12k small ATen ops
for one training step, 1.6k of them LoRA detours in fp32, and ~3.8k ops per decoded token. This
module reads the base weights of a loaded Gemma 3 / Llama / Qwen model (without copying or ever
writing them) and computes the same function with far fewer ops:

- q, k and v are one matmul, gate and up are one matmul;
- LoRA matrices of all layers are stacked (one tensor per projection, `arcttt.engine.lora`), kept
  in fp32 as master weights and cast to the compute dtype once per step;
- attention is batched matmuls with the query heads of a key/value head stacked (no copies of
  keys per head), causal, for right-padded batches (pads only after the tokens that matter);
  sliding-window layers attend in 2-window blocks once a sequence is longer than twice the
  window, never paying L x L;
- decoding merges the task's LoRA into a working copy of the weights and keeps one static KV
  cache for prompts of any lengths (`arcttt.engine.decoder`).

`supports(model)` says whether a model can run here and `lora.supports_lora(lora)` whether its
LoRA targets can; other models (and quantized ones) use the Hugging Face path in `arcttt.engine.hf`.
The embedding, block, attention and logits pieces are public: the decoder runs them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from arcttt.core.config import LoraConfig
from arcttt.core.errors import ArcError
from arcttt.engine.decoder import Decoder
from arcttt.engine.lora import (fresh_adapters, load_adapter, lora_scale, lora_views, merged_ends, merged_layers,
                                peft_state, save_adapter, supports_lora)

# Model types whose decoder blocks this module reproduces exactly (tested against transformers).
SUPPORTED = ("gemma3_text", "llama", "mistral", "qwen2", "qwen3")  # Mistral: Llama's block


def supports(model: nn.Module) -> str | None:
    """None if `LeanLM` can run `model`, else why not (a short reason for the log)."""
    config = getattr(model, "config", None)
    kind = getattr(config, "model_type", None)
    if kind not in SUPPORTED:
        return f"model type {kind!r} is not one of {', '.join(SUPPORTED)}"
    if getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False):
        return "quantized weights"
    if kind == "qwen2" and getattr(config, "use_sliding_window", False):
        return "Qwen2 sliding-window variant"
    if kind == "mistral" and getattr(config, "sliding_window", None):
        return "Mistral with a sliding window (NeMo-Minitron has none)"
    if getattr(config, "attn_logit_softcapping", None):
        return "attention logit soft-capping"
    return None


@dataclass
class Layer:
    """One decoder block's frozen weights, fused where the math allows."""

    qkv: torch.Tensor  # [q_out + 2 kv_out, hidden]
    qkv_bias: torch.Tensor | None
    o: torch.Tensor
    gate_up: torch.Tensor  # [2 intermediate, hidden]
    down: torch.Tensor
    norms: dict[str, torch.Tensor]  # name -> weight as applied (Gemma's 1 + w already added), fp32
    sliding: bool
    rope: str  # which cos/sin table


def _rope_tables(model: nn.Module, length: int, dtype: torch.dtype) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """cos/sin per layer type for positions 0..length-1, exactly as the model's rotary module makes them."""
    rotary = model.model.rotary_emb
    tables = {}
    positions = torch.arange(length, device=next(model.parameters()).device)[None]
    probe = torch.zeros((), dtype=dtype, device=positions.device)
    per_type = isinstance(getattr(rotary, "rope_type", None), dict)  # Gemma 3: a table per layer type
    kinds = getattr(model.config, "layer_types", None) if per_type else None
    for kind in sorted(set(kinds or ["default"])):
        if not per_type:
            cos, sin = rotary(probe, positions)
        else:
            cos, sin = rotary(probe, positions, kind)
        tables[kind] = (cos[0], sin[0])
    return tables


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class LeanLM(nn.Module):
    """The base model's function plus a stacked LoRA adapter; see the module docstring."""

    def __init__(self, model: nn.Module, lora: LoraConfig | None, seed: int = 0, max_positions: int = 10240,
                 gradient_checkpointing: bool = False):
        super().__init__()
        self.gradient_checkpointing = gradient_checkpointing
        reason = supports(model)
        if reason is not None:
            raise ArcError(f"the lean engine cannot run this model: {reason}")
        config = model.config
        self.kind = config.model_type
        self.gemma = self.kind.startswith("gemma")
        self.hidden = config.hidden_size
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or self.hidden // self.heads
        self.eps = config.rms_norm_eps
        self.window = getattr(config, "sliding_window", None) or 0
        self.scale = (config.query_pre_attn_scalar ** -0.5 if self.gemma else self.head_dim ** -0.5)
        self.softcap = getattr(config, "final_logit_softcapping", None)
        activation = getattr(config, "hidden_activation", None) or config.hidden_act
        self.activation = {"gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
                           "gelu": F.gelu}[activation]
        embeddings = model.get_input_embeddings()
        self.embed = embeddings.weight
        self.dtype = self.embed.dtype
        self.embed_scale = (torch.tensor(self.hidden ** 0.5, dtype=self.dtype) if self.gemma else None)
        self.head = model.get_output_embeddings().weight
        self.final_norm = self._norm_weight(model.model.norm.weight)
        layer_types = getattr(config, "layer_types", None) if self.gemma else None
        self.layers = [self._layer(block, (layer_types[i] if layer_types else "default"))
                       for i, block in enumerate(model.model.layers)]
        self.shapes = self._shapes()
        self.max_positions = max_positions
        # Fused SDPA kernels for causal attention on GPUs; on CPUs batched matmuls beat them ~2x.
        self.flash = self.embed.device.type == "cuda"
        self.rope = _rope_tables(model, max_positions, self.dtype)
        self.lora_config = lora
        self.adapters = nn.ParameterDict()
        self.lora_scale = 0.0
        self._fresh: dict[str, torch.Tensor] = {}
        if lora is not None:
            self._init_lora(lora, seed)

    # -- weights -----------------------------------------------------------------------------------

    def _norm_weight(self, weight: torch.Tensor) -> torch.Tensor:
        # Gemma scales by (1 + w) in fp32 before casting; Llama casts first, then scales by w.
        return (1.0 + weight.float()) if self.gemma else weight

    def _layer(self, block: nn.Module, kind: str) -> Layer:
        attn, mlp = block.self_attn, block.mlp
        qkv = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight])
        biases = [attn.q_proj.bias, attn.k_proj.bias, attn.v_proj.bias]
        qkv_bias = torch.cat(biases) if biases[0] is not None else None
        norms = {"attn_in": block.input_layernorm.weight}
        if self.gemma:
            norms.update(attn_out=block.post_attention_layernorm.weight,
                         mlp_in=block.pre_feedforward_layernorm.weight,
                         mlp_out=block.post_feedforward_layernorm.weight)
        else:
            norms["mlp_in"] = block.post_attention_layernorm.weight
        if getattr(attn, "q_norm", None) is not None:
            norms.update(q=attn.q_norm.weight, k=attn.k_norm.weight)
        return Layer(qkv=qkv, qkv_bias=qkv_bias, o=attn.o_proj.weight,
                     gate_up=torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]), down=mlp.down_proj.weight,
                     norms={k: self._norm_weight(v) for k, v in norms.items()},
                     sliding=kind == "sliding_attention" and self.window > 0, rope=kind)

    def _shapes(self) -> dict[str, tuple[int, int]]:
        """(out, in) of each projection."""
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        inter = self.layers[0].down.shape[1]
        return {"q_proj": (q, self.hidden), "k_proj": (kv, self.hidden), "v_proj": (kv, self.hidden),
                "o_proj": (self.hidden, q), "gate_proj": (inter, self.hidden), "up_proj": (inter, self.hidden),
                "down_proj": (self.hidden, inter)}

    def _init_lora(self, lora: LoraConfig, seed: int) -> None:
        reason = supports_lora(lora)
        if reason is not None:
            raise ArcError(f"the lean engine cannot train {reason}; use backend = hf")
        fresh = fresh_adapters(lora, seed, self.shapes, len(self.layers), self.hidden, self.embed, self.head)
        for name, parameter in fresh.items():  # in this order: the optimizer's
            self.adapters[name] = parameter
        self.lora_scale = lora_scale(lora)
        self._fresh = {k: v.detach().clone() for k, v in self.adapters.items()}

    def reset(self) -> None:
        """Back to the fresh adapter (the base model's function), gradients cleared."""
        with torch.no_grad():
            for name, value in self._fresh.items():
                self.adapters[name].copy_(value)
        for parameter in self.adapters.values():
            parameter.grad = None

    def trainable(self) -> list[nn.Parameter]:
        return list(self.adapters.values())

    # -- the forward pass ----------------------------------------------------------------------------

    def _norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        if self.gemma:
            return F.rms_norm(x.float(), (x.shape[-1],), weight, self.eps).to(x.dtype)
        return F.rms_norm(x.float(), (x.shape[-1],), None, self.eps).to(x.dtype) * weight

    def _project(self, x: torch.Tensor, weight: torch.Tensor, parts: tuple[str, ...], lora: dict, i: int,
                 bias: torch.Tensor | None = None) -> torch.Tensor:
        """x @ weight.T (+ bias) plus the LoRA deltas of the projections fused in `weight`."""
        y = F.linear(x, weight, bias)
        if not lora or not any(p in lora for p in parts):
            return y
        xd = self._dropout(x)
        if parts in lora:
            stacked, present = lora[parts]
            inner = F.linear(xd, stacked[i]).split(self.lora_config.rank, dim=-1)
            low = dict(zip(present, inner))
        else:
            low = {p: F.linear(xd, lora[p][0][i]) for p in parts if p in lora}
        deltas = []
        for part in parts:
            if part in low:
                deltas.append(F.linear(low[part], lora[part][1][i]))
            else:
                deltas.append(x.new_zeros((*x.shape[:-1], self.shapes[part][0])))
        return y + (deltas[0] if len(deltas) == 1 else torch.cat(deltas, dim=-1))

    def _dropout(self, x: torch.Tensor) -> torch.Tensor:
        """The LoRA path's input, with `lora.dropout` while training."""
        dropout = self.lora_config.dropout if self.training and self.lora_config is not None else 0.0
        return F.dropout(x, dropout) if dropout > 0 else x

    def attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sliding: bool) -> torch.Tensor:
        """Causal attention over a whole sequence (no padding inside it), sliding if the layer is."""
        length = q.shape[-2]
        if self.flash and (not sliding or length <= self.window):
            # The window does not cut a sequence this short: plain causal, no mask tensor, so the
            # GPU's flash kernels run (in the compute dtype; the CPU path softmaxes in fp32).
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.scale,
                                                  enable_gqa=self.heads != self.kv_heads)
        if sliding and length > 2 * self.window:
            return self._banded_attention(q, k, v)
        pos = torch.arange(length, device=q.device)
        distance = pos[:, None] - pos[None, :]
        allowed = (distance >= 0) & (distance < self.window) if sliding else distance >= 0
        return self.grouped_attention(q, k, v, allowed)

    def grouped_attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                           allowed: torch.Tensor | None) -> torch.Tensor:
        """Attention with the query heads of each key/value head stacked as extra query rows.

        No copy of keys and values per query head (Gemma 3 270M has 4 query heads on 1 kv head),
        and plain batched matmuls: on CPUs they beat the fused SDPA kernels for these shapes ~2x,
        forward and backward. Softmax in fp32, as transformers' eager attention does.
        """
        batch, heads, length, dim = q.shape
        groups = heads // self.kv_heads
        keys = k.shape[-2]
        q = q.reshape(batch, self.kv_heads, groups * length, dim)
        scores = torch.matmul(q, k.transpose(-1, -2)).view(batch, self.kv_heads, groups, length, keys).float()
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores * self.scale, dim=-1).to(v.dtype)
        out = torch.matmul(probs.view(batch, self.kv_heads, groups * length, keys), v)
        return out.view(batch, heads, length, dim)

    def _banded_attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Sliding-window attention in blocks of `window` queries against their 2 * window keys."""
        w = self.window
        batch, heads, length, dim = q.shape
        groups = heads // self.kv_heads
        if groups > 1:
            k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        blocks = -(-length // w)
        pad = blocks * w - length
        q, k, v = (F.pad(t, (0, 0, 0, pad)) for t in (q, k, v))
        # Keys of block i: block i - 1 then block i (zeros before the first block, masked out).
        k, v = (F.pad(t, (0, 0, w, 0)).unfold(2, 2 * w, w).transpose(-1, -2) for t in (k, v))
        q = q.view(batch, heads, blocks, w, dim)
        row = torch.arange(w, device=q.device)[:, None]
        col = torch.arange(2 * w, device=q.device)[None, :]
        mask = (col > row) & (col <= row + w)  # key at block offset col - w, query at row: 0 <= distance < w
        first = mask & (col >= w)
        masks = torch.stack([first] + [mask] * (blocks - 1))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=masks, scale=self.scale)
        return out.reshape(batch, heads, blocks * w, dim)[:, :, :length]

    def qkv(self, layer: Layer, x: torch.Tensor, lora: dict, i: int, positions: torch.Tensor | None = None):
        """q, k, v with rotary embeddings: at 0..length-1, or one token per row at `positions`."""
        batch, length, _ = x.shape
        qkv = self._project(x, layer.qkv, ("q_proj", "k_proj", "v_proj"), lora, i, layer.qkv_bias)
        q_size, kv_size = self.heads * self.head_dim, self.kv_heads * self.head_dim
        q, k, v = qkv.split([q_size, kv_size, kv_size], dim=-1)
        q = q.view(batch, length, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = v.view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        if "q" in layer.norms:
            q, k = self._norm(q, layer.norms["q"]), self._norm(k, layer.norms["k"])
        cos, sin = self.rope[layer.rope]
        if positions is None:
            cos, sin = cos[:length], sin[:length]
        else:  # [batch, length] positions of each row's tokens -> broadcast over heads
            cos, sin = cos[positions][:, None], sin[positions][:, None]
        return _rotate(q, cos, sin), _rotate(k, cos, sin), v

    def block(self, layer: Layer, x: torch.Tensor, lora: dict, i: int, attend) -> torch.Tensor:
        h = self._norm(x, layer.norms["attn_in"])
        a = attend(h)
        batch, length = x.shape[:2]
        a = self._project(a.transpose(1, 2).reshape(batch, length, -1), layer.o, ("o_proj",), lora, i)
        if self.gemma:
            a = self._norm(a, layer.norms["attn_out"])
        x = x + a
        h = self._norm(x, layer.norms["mlp_in"])
        gate, up = self._project(h, layer.gate_up, ("gate_proj", "up_proj"), lora, i).chunk(2, dim=-1)
        m = self._project(self.activation(gate) * up, layer.down, ("down_proj",), lora, i)
        if self.gemma:
            m = self._norm(m, layer.norms["mlp_out"])
        return x + m

    def embedding(self, ids: torch.Tensor, weight: torch.Tensor | None = None,
                  lora: dict | None = None) -> torch.Tensor:
        """Token embeddings from `weight` (default: the base's), plus the embedding's LoRA in `lora`;
        Gemma scales both (as peft scales the LoRA part)."""
        x = F.embedding(ids, self.embed if weight is None else weight)
        if lora and "embed_tokens" in lora:
            a, b = lora["embed_tokens"]
            x = x + F.embedding(ids, a) @ b
        return x * self.embed_scale if self.embed_scale is not None else x

    def logits(self, x: torch.Tensor, weight: torch.Tensor | None = None, lora: dict | None = None) -> torch.Tensor:
        """fp32 logits through the head `weight` (default: the base's), plus the head's LoRA in `lora`."""
        h = self._norm(x, self.final_norm)
        logits = F.linear(h, self.head if weight is None else weight)
        if lora and "lm_head" in lora:
            a, b = lora["lm_head"]
            logits = logits + F.linear(F.linear(self._dropout(h), a), b)
        logits = logits.float()
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits

    def forward(self, ids: torch.Tensor, checkpoint: bool | None = None) -> torch.Tensor:
        """fp32 logits [batch, length, vocab] for right-padded rows (pads only after real tokens).

        `checkpoint`: recompute each block in the backward pass (None: as constructed)."""
        checkpoint = self.gradient_checkpointing if checkpoint is None else checkpoint
        if ids.shape[1] > self.max_positions:
            raise ArcError(f"sequence of {ids.shape[1]} tokens exceeds the engine's {self.max_positions} positions")
        lora = lora_views(self.adapters, self.lora_scale, self.dtype) if len(self.adapters) else {}
        x = self.embedding(ids, lora=lora)
        for i, layer in enumerate(self.layers):
            def run(x, layer=layer, i=i):
                return self.block(layer, x, lora, i,
                                  lambda h: self.attention(*self.qkv(layer, h, lora, i), layer.sliding))
            if checkpoint and self.training:
                x = torch.utils.checkpoint.checkpoint(run, x, use_reentrant=False)
            else:
                x = run(x)
        return self.logits(x, lora=lora)

    # -- decoding ---------------------------------------------------------------------------------------

    def merged_layers(self) -> list[Layer]:
        """Working copies of the weights with the LoRA folded in (W + s B A); the base is never written."""
        return merged_layers(self.layers, self.adapters, self.shapes, self.lora_scale)

    def merged_ends(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The embedding and head with their LoRA folded in (working copies), or the base's own."""
        return merged_ends(self.embed, self.head, self.adapters, self.lora_scale)

    def decoder(self) -> Decoder:
        """A decoder over the current adapter, merged into working weights once for all its steps."""
        return Decoder(self, self.merged_layers(), self.merged_ends())

    # -- saving -----------------------------------------------------------------------------------------

    def lora_state(self) -> dict[str, torch.Tensor]:
        """The adapter in peft's key layout (loadable by peft as a LoRA on the same base model)."""
        return peft_state(self.adapters, len(self.layers))

    def save(self, directory: Path) -> None:
        """The adapter as peft writes one (weights + config), each file replaced atomically."""
        save_adapter(directory, self.adapters, len(self.layers), self.lora_config)

    def load(self, directory: Path) -> None:
        load_adapter(directory, self.adapters, len(self.layers))
