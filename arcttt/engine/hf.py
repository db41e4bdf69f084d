"""The Hugging Face path: any causal LM transformers can load (quantized ones included), LoRA by peft.

It offers what `arcttt.engine.lm.LeanLM` offers (forward for training, reset, save/load, a batched
decoder), so training and decoding code is the same for both. It is the path for models the lean
engine does not know and for 4-bit/8-bit bases; it pays transformers' and peft's per-op overhead.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from arcttt.core.config import LoraConfig
from arcttt.core.errors import ArcError
from arcttt.engine.libraries import quiet_libraries

TTT = "default"  # peft's name for the adapter a task trains (saved at the top of its folder)
STAGE1 = "stage1"


class HfLM(nn.Module):
    """A base model wrapped by peft with one LoRA adapter, or the bare model when `lora` is None.

    `unmerged`: a stage-1 adapter folder applied beside the base weights and frozen (for
    quantized bases, whose weights must not take it in); the TTT adapter trains on top of it.
    """

    def __init__(self, model: nn.Module, lora: LoraConfig | None, seed: int = 0, gradient_checkpointing: bool = False,
                 unmerged: Path | None = None):
        super().__init__()
        self.lora_config = lora
        self.gradient_checkpointing = gradient_checkpointing
        self.dtype = getattr(model, "dtype", torch.float32)
        self._fresh: dict[str, torch.Tensor] = {}
        quiet_libraries()
        if lora is not None:
            model = self._prepare(model, lora, gradient_checkpointing)
        if unmerged is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(unmerged), adapter_name=STAGE1)
        if lora is None:
            self.model = model
            return
        from peft import LoraConfig as PeftLoraConfig
        from peft import get_peft_model, get_peft_model_state_dict

        config = PeftLoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                use_rslora=lora.use_rslora, target_modules=self.targets, task_type="CAUSAL_LM")
        # LoRA's A matrices are drawn from torch's global generator: seed it here, privately.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if unmerged is None:
                self.model = get_peft_model(model, config)
            else:
                model.add_adapter(TTT, config)
                model.base_model.set_adapter([STAGE1, TTT])
                for name, parameter in model.named_parameters():
                    parameter.requires_grad_(f".{TTT}." in name)
                self.model = model
        # The vocabulary cut makes peft think embeddings were resized, and a LoRA on embed_tokens or
        # lm_head makes it save them whole: they are frozen base weights, the checkpoint's own. A
        # LoRA on them is adapter weights (lora_embedding_A/B, lm_head.lora_A/B), kept here all the same.
        state = get_peft_model_state_dict(self.model, adapter_name=TTT, save_embedding_layers=False)
        self._fresh = {k: v.detach().clone() for k, v in state.items()}

    def _prepare(self, model: nn.Module, lora: LoraConfig, gradient_checkpointing: bool) -> nn.Module:
        """Check the LoRA targets are in the bare model; ready it for training (k-bit, checkpointing)."""
        present = {name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, (nn.Linear, nn.Embedding))
                   or type(module).__name__ in ("Linear4bit", "Linear8bitLt")}
        missing = [t for t in lora.target_modules if t not in present]
        if missing:
            raise ArcError(f"LoRA target modules {missing} (lora.target_modules) are not in the model; "
                           f"its linear and embedding layers are: {sorted(present)}")
        self.targets = list(lora.target_modules)
        if getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False):
            from peft import prepare_model_for_kbit_training

            return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
        if gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        return model

    def reset(self) -> None:
        if not self._fresh:
            return
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(self.model, self._fresh, adapter_name=TTT)
        for parameter in self.trainable():
            parameter.grad = None

    def trainable(self) -> list[nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def forward(self, ids: torch.Tensor, checkpoint: bool | None = None) -> torch.Tensor:
        """fp32 logits of right-padded ids; `checkpoint` must be None or what was constructed
        (transformers switches checkpointing on for the whole model, not per call)."""
        if checkpoint is not None and checkpoint != self.gradient_checkpointing:
            raise ArcError("the hf backend sets gradient checkpointing when it is built, not per forward pass")
        # Right padding with a causal mask: real tokens never attend to the pads after them.
        return self.model(input_ids=ids, use_cache=False).logits.float()

    def decoder(self) -> "HfDecoder":
        """Greedy decoding through transformers' cache; peft applies the adapter on the fly."""
        return HfDecoder(self.model)

    def save(self, directory: Path) -> None:
        """peft's own files, written to scratch and then replaced into `directory` one by one, atomically."""
        import tempfile

        from arcttt.core.durable import write_bytes_atomic

        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".save-") as scratch:
            self.model.save_pretrained(scratch, safe_serialization=True, save_embedding_layers=False,
                                       selected_adapters=[TTT])
            for path in sorted(Path(scratch).rglob("*")):
                if path.is_file():
                    write_bytes_atomic(directory / path.relative_to(scratch), path.read_bytes())

    def load(self, directory: Path) -> None:
        from peft import set_peft_model_state_dict
        from peft.utils import load_peft_weights

        try:
            weights = load_peft_weights(str(directory), device=str(next(self.model.parameters()).device))
        except (OSError, ValueError) as exc:
            raise ArcError(f"cannot load adapter: {exc}", source=str(directory)) from exc
        set_peft_model_state_dict(self.model, weights, adapter_name=TTT)


class HfDecoder:
    """Prefill, then one token per row per step, through transformers' own KV cache.

    Prompts of different lengths are left-padded with an attention mask (transformers derives
    each row's positions from it); the lean engine's decoder avoids the padding.
    """

    branches = False
    NEEDS_LEAN = ("needs the lean backend (model.backend = auto or lean, with a Gemma 3, Llama or Qwen model): "
                  "the hf backend's decoder cannot branch")

    def __init__(self, model: nn.Module):
        self.model = model
        self.cache = None
        self.attention: torch.Tensor | None = None

    def prefill(self, prompts: list[torch.Tensor], new_tokens: int, pad: int) -> torch.Tensor:
        from transformers import DynamicCache

        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad, dtype=torch.long, device=prompts[0].device)
        self.attention = torch.zeros_like(ids)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt):] = prompt
            self.attention[row, width - len(prompt):] = 1
        self.cache = DynamicCache(config=self.model.config)
        positions = (self.attention.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=self.attention, position_ids=positions,
                         past_key_values=self.cache, use_cache=True)
        self.positions = positions[:, -1] + 1  # each row's next position
        return out.logits[:, -1].float()

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 1:
            raise ArcError(f"steps of several tokens a row (speculative decoding) {self.NEEDS_LEAN}")
        self.attention = torch.cat([self.attention, torch.ones_like(self.attention[:, :1])], dim=1)
        out = self.model(input_ids=tokens[:, None], attention_mask=self.attention, position_ids=self.positions[:, None],
                         past_key_values=self.cache, use_cache=True)
        self.positions = self.positions + 1
        return out.logits[:, -1].float()

    def room(self) -> int:
        """transformers' cache grows as needed."""
        return 1 << 30

    def accept(self, kept: torch.Tensor) -> None:
        raise ArcError(f"speculative decoding {self.NEEDS_LEAN}")

    def fork(self, rows: torch.Tensor, keep: torch.Tensor, room: int) -> "HfDecoder":
        raise ArcError(f"the depth-first search and answer scoring {self.NEEDS_LEAN}")

    def sibling(self) -> "HfDecoder":
        return HfDecoder(self.model)
