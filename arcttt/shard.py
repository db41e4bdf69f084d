"""Splitting a run into shards and merging them back, checked: disjoint, complete, one config.

Tasks are dealt longest-first to the least-loaded shard (by prompt tokens), so shards finish
together. Each shard's predictions file has a manifest beside it (`X.shard.json`) saying which
shard it is, which tasks it owns, every task of the run, and the config digest; `merge`
trusts nothing else.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from arcttt.encode import encode
from arcttt.errors import ArcError
from arcttt.predictions import Predictions, load_predictions
from arcttt.tasks import Task


@dataclass(frozen=True)
class Manifest:
    shard: int
    of: int
    config_digest: str
    tasks: tuple[str, ...]  # the tasks this shard owns
    all_tasks: tuple[str, ...]  # every task of the run, in output order


def parse_shard(spec: str) -> tuple[int, int]:
    """`I/N` (0-based I) to (I, N)."""
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise ArcError(f"--shard must look like I/N (e.g. 0/4), got {spec!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ArcError(f"--shard {spec}: need 0 <= I < N")
    return index, count


def task_cost(task: Task) -> int:
    """Prompt tokens over the task's test inputs: a stand-in for its training and decoding time."""
    return sum(len(encode(task.train, example, max_tokens=1 << 30, with_answer=False)) for example in task.test)


def assign(tasks: list[Task], count: int) -> list[list[str]]:
    """Task ids per shard, longest first to the least-loaded shard; deterministic."""
    costs = {task.id: task_cost(task) for task in tasks}  # each encodes every test prompt: once
    loads = [0] * count
    shards: list[list[str]] = [[] for _ in range(count)]
    for task in sorted(tasks, key=lambda t: (-costs[t.id], t.id)):
        target = min(range(count), key=lambda i: (loads[i], i))
        shards[target].append(task.id)
        loads[target] += costs[task.id]
    return shards


def shard_path(out: Path, index: int, count: int) -> Path:
    """Where shard `index` of `count` writes: `predictions.shard-0-of-4.json` beside `out`."""
    return out.with_name(f"{out.stem}.shard-{index}-of-{count}{out.suffix}")


def manifest_path(predictions: Path) -> Path:
    return predictions.with_name(f"{predictions.stem}.shard.json")


def write_manifest(predictions: Path, manifest: Manifest) -> None:
    predictions.parent.mkdir(parents=True, exist_ok=True)
    manifest_path(predictions).write_text(json.dumps(asdict(manifest), indent=1) + "\n")


def read_manifest(predictions: Path) -> Manifest:
    path = manifest_path(predictions)
    try:
        data = json.loads(path.read_text())
        return Manifest(int(data["shard"]), int(data["of"]), str(data["config_digest"]),
                        tuple(data["tasks"]), tuple(data["all_tasks"]))
    except OSError as exc:
        raise ArcError(f"no shard manifest beside it ({path.name}): was it written by `arcttt solve --shard`?",
                       source=str(predictions)) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ArcError(f"malformed shard manifest: {exc}", source=str(path)) from exc


def merge(shards: list[tuple[str, Manifest, Predictions]]) -> Predictions:
    """One predictions dict from shards, after checking they belong together and cover the run."""
    if not shards:
        raise ArcError("no shards to merge")
    first_name, first, _ = shards[0]
    seen_index: dict[int, str] = {}
    owner: dict[str, str] = {}
    merged: Predictions = {}
    for name, manifest, predictions in shards:
        if manifest.config_digest != first.config_digest:
            raise ArcError(f"config digest {manifest.config_digest} differs from {first_name}'s "
                           f"{first.config_digest}: shards of different runs", source=name)
        if manifest.of != first.of or manifest.all_tasks != first.all_tasks:
            raise ArcError(f"belongs to another split of the tasks than {first_name}", source=name)
        if manifest.shard in seen_index:
            raise ArcError(f"shard {manifest.shard}/{manifest.of} given twice (also {seen_index[manifest.shard]})",
                           source=name)
        seen_index[manifest.shard] = name
        for task_id in predictions:
            if task_id in owner:
                raise ArcError(f"overlapping shards: task {task_id} is also in {owner[task_id]}", source=name)
            owner[task_id] = name
        unfinished = [t for t in manifest.tasks if t not in predictions]
        if unfinished:
            raise ArcError(f"shard is unfinished: {len(unfinished)} task(s) missing, e.g. {unfinished[0]}; "
                           "run it again with --resume", source=name)
        merged.update(predictions)
    missing = [t for t in first.all_tasks if t not in merged]
    if missing:
        absent = sorted(set(range(first.of)) - set(seen_index))
        raise ArcError(f"{len(missing)} task(s) of the run are in no shard given (e.g. {missing[0]}); "
                       f"missing shard(s): {', '.join(f'{i}/{first.of}' for i in absent) or 'none'}")
    return {t: merged[t] for t in first.all_tasks}


def merge_files(paths: list[Path]) -> Predictions:
    """`merge` over shard predictions files and their manifests."""
    return merge([(str(p), read_manifest(p), load_predictions(p)) for p in paths])
