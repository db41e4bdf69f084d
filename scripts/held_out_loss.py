"""The held-out stage-1 loss of several adapters on the same samples, for a fair comparison.

Reads the held-out tasks and sampling settings from a stage-1 manifest (`--manifest`), draws the
same fixed samples `arcttt pretrain` measured, and prints each model's target-token mean loss:
the bare embedded model, then each adapter folder given. An adapter that trained on a held-out
task (by id, pair or grid) is measured on the other tasks only; every model is also measured on
the tasks that no adapter given has seen, the one like-for-like comparison.

Usage: python scripts/held_out_loss.py --manifest runs/stage1-v2 [ADAPTER ...] [--json]
Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from arcttt.core.config import LoraConfig, ModelConfig, PretrainConfig
from arcttt.core.contamination import overlap
from arcttt.core.tasks import load_source
from arcttt.engine.adapters import merge_base_adapter, read_base_adapter_manifest
from arcttt.engine.lm import LeanLM
from arcttt.engine.model import load_model
from arcttt.engine.ttt import mean_loss
from arcttt.run.pretrain import Corpus, build_corpus, held_out_samples, hold_out, trainable

sys.path.insert(0, os.path.dirname(__file__))
from bench_ttt import cpu_name  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True, help="Stage-1 folder whose held-out tasks to use.")
    parser.add_argument("adapters", type=Path, nargs="*")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    manifest = read_base_adapter_manifest(args.manifest)
    settings = dict(manifest["config"])
    settings["lora"] = LoraConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings["lora"].items()})
    config = PretrainConfig(**settings)
    # The corpus exactly as `pretrain` built it, so the held-out tasks and samples are its own.
    sources = [(name, list(load_source(name).tasks)) for name in manifest["sources"]]
    excluded = [(name, list(load_source(name).tasks)) for name in manifest["excluded_sources"]]
    corpus = trainable(hold_out(build_corpus(sources, excluded), config.held_out, config.seed), config.max_tokens)
    held = list(corpus.held_out)
    if [t.id for t in held] != manifest["held_out_tasks"]:
        raise SystemExit(f"{args.manifest}: its held-out tasks are not what this arcttt holds out from its sources")
    seen: dict[str, set[str]] = {"bare": set()}
    for adapter in args.adapters:
        trained = read_base_adapter_manifest(adapter)
        seen[str(adapter)] = set(overlap(set(trained["trained_tasks"]), set(trained["trained_pair_hashes"]), held,
                                         set(trained.get("trained_grid_hashes", []))))
    common = [t for t in held if not any(t.id in s for s in seen.values())]
    results = {"cpu": cpu_name()[0], "held_out_tasks": len(held), "unseen_by_all": [t.id for t in common],
               "models": {}}
    for adapter in [None, *args.adapters]:
        name = str(adapter) if adapter is not None else "bare"
        loaded = load_model(ModelConfig(adapter=""))
        if adapter is not None:
            loaded = merge_base_adapter(loaded, adapter, "embedded")
        lm = LeanLM(loaded.model, None)
        unseen = [t for t in held if t.id not in seen[name]]
        row = {}
        for label, tasks in (("unseen", unseen), ("unseen_by_all", common)):
            samples = held_out_samples(Corpus((), (), (), {}, tuple(tasks)), config)
            row[label] = {"loss": mean_loss(lm, samples, config.batch_tokens, loaded.device), "tasks": len(tasks),
                          "samples": len(samples)}
            print(f"{name}: held-out loss {row[label]['loss']:.4f} on {len(samples)} samples of the {len(tasks)} "
                  f"tasks {label.replace('_', ' ')}", file=sys.stderr)
        results["models"][name] = row
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
