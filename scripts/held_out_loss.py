"""The held-out stage-1 loss of several adapters on the same samples, for a fair comparison.

Reads the held-out tasks and sampling settings from a stage-1 manifest (`--manifest`), draws the
same fixed samples `arcttt pretrain` measured, and prints each model's target-token mean loss:
the bare embedded model, then each adapter folder given. An adapter that trained on a held-out
task (by id, pair or grid) is measured on the other tasks only; every model is also measured on
the tasks that no adapter given has seen, the one like-for-like comparison.

Usage: python scripts/held_out_loss.py --manifest runs/stage1-v2 [ADAPTER ...] [--json]
       python scripts/held_out_loss.py --quick --work DIR --json   # seconds: a 2-step stage 1 of the tiny
                                                                    # random model on the sample tasks (CI)
Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from arcttt.core.config import LoraConfig, ModelConfig, PretrainConfig, pretrain_from_dict
from arcttt.core.contamination import overlap
from arcttt.core.tasks import load_source
from arcttt.engine.adapters import merge_base_adapter, read_base_adapter_manifest
from arcttt.engine.model import load_model
from arcttt.engine.runtime import build_lm
from arcttt.engine.ttt import mean_loss
from arcttt.run.pretrain import Corpus, build_corpus, held_out_samples, hold_out, pretrain, trainable
from arcttt.testing import tiny_loaded

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ttt import SAMPLE_TASKS, cpu_name  # noqa: E402

TINY = "tiny"  # the base model name a --quick stage 1 records


def quick_stage1(out: Path) -> Path:
    """A stage-1 adapter of the tiny random model: 2 steps on the sample tasks, 2 of them held out."""
    tasks = list(load_source(SAMPLE_TASKS).tasks)
    config = replace(PretrainConfig(), steps=2, held_out=2, batch_tokens=1024, chunk=8, max_tokens=1024,
                     checkpoint_every=2, lora=LoraConfig(rank=4, alpha=8))
    pretrain(tiny_loaded(), ModelConfig(name=TINY, adapter=""), build_corpus([(str(SAMPLE_TASKS), tasks)], []),
             config, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, help="Stage-1 folder whose held-out tasks to use.")
    parser.add_argument("adapters", type=Path, nargs="*")
    parser.add_argument("--quick", action="store_true",
                        help="train a 2-step stage 1 of the tiny random model into --work, then compare it "
                             "with its base")
    parser.add_argument("--work", type=Path, default=None,
                        help="--quick: where its stage 1 goes (default: a temp folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = None
    if args.quick:
        if args.manifest is not None or args.adapters:
            parser.error("--quick trains its own stage 1: give neither --manifest nor adapters")
        work = args.work or Path(tempfile.mkdtemp(prefix="arcttt-held-out-"))
        args.manifest = quick_stage1(work / "stage1")
        args.adapters = [args.manifest]
    elif args.manifest is None:
        parser.error("--manifest is required (or --quick)")
    if args.quick:
        base_name, load_base = TINY, tiny_loaded
    else:
        base_name, load_base = "embedded", lambda: load_model(ModelConfig(adapter=""))
    manifest = read_base_adapter_manifest(args.manifest)
    config = pretrain_from_dict(manifest["config"], f"{args.manifest}: the manifest's config")
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
        loaded = load_base()
        if adapter is not None:
            loaded = merge_base_adapter(loaded, adapter, base_name)
        lm = build_lm(loaded.model, None, config.seed, config.max_tokens + loaded.codec.max_answer_tokens)
        unseen = [t for t in held if t.id not in seen[name]]
        row = {}
        for label, tasks in (("unseen", unseen), ("unseen_by_all", common)):
            samples = held_out_samples(Corpus((), (), (), {}, tuple(tasks)), config, loaded.codec)
            row[label] = {"loss": mean_loss(lm, samples, config.batch_tokens, loaded.device, loaded.codec.pad),
                          "tasks": len(tasks),
                          "samples": len(samples)}
            print(f"{name}: held-out loss {row[label]['loss']:.4f} on {len(samples)} samples of the {len(tasks)} "
                  f"tasks {label.replace('_', ' ')}", file=sys.stderr)
        results["models"][name] = row
    if work is not None and args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
