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

from arcttt.core.durable import write_json_atomic
from arcttt.core.encode import encode
from arcttt.core.errors import ArcError
from arcttt.core.grids import parse_grid
from arcttt.core.predictions import Predictions, load_predictions
from arcttt.core.tasks import Task


@dataclass(frozen=True)
class Manifest:
    shard: int
    of: int
    config_digest: str
    tasks: tuple[str, ...]  # the tasks this shard owns
    all_tasks: tuple[str, ...]  # every task of the run, in output order
    outputs: tuple[int, ...] = ()  # test inputs of each owned task: entries its predictions must have

    def check(self, source: str) -> Manifest:
        """The manifest itself if it makes sense; else an error naming the file."""
        def fail(reason: str) -> ArcError:
            return ArcError(f"malformed shard manifest: {reason}", source=source)

        if not (self.of >= 1 and 0 <= self.shard < self.of):
            raise fail(f"shard {self.shard} of {self.of}: need 0 <= shard < of")
        if len(set(self.all_tasks)) != len(self.all_tasks) or len(set(self.tasks)) != len(self.tasks):
            raise fail("a task id is listed twice")
        if not set(self.tasks) <= set(self.all_tasks):
            raise fail("owns tasks that are not in the run")
        if self.outputs and (len(self.outputs) != len(self.tasks) or min(self.outputs) < 1):
            raise fail("outputs must give each owned task's number of test inputs")
        return self


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
    write_json_atomic(manifest_path(predictions), asdict(manifest), indent=1)


def read_manifest(predictions: Path) -> Manifest:
    path = manifest_path(predictions)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ids = [data["tasks"], data["all_tasks"]]
        if not all(isinstance(x, list) and all(isinstance(t, str) for t in x) for x in ids):
            raise TypeError("tasks and all_tasks must be lists of task ids")
        if not all(type(data[k]) is int for k in ("shard", "of")) or not isinstance(data["config_digest"], str):
            raise TypeError("shard and of must be integers, config_digest a string")
        outputs = data.get("outputs", [])
        if not isinstance(outputs, list) or not all(type(n) is int for n in outputs):
            raise TypeError("outputs must be a list of integers")
        manifest = Manifest(data["shard"], data["of"], data["config_digest"], tuple(data["tasks"]),
                            tuple(data["all_tasks"]), tuple(outputs))
    except OSError as exc:
        raise ArcError(f"no shard manifest beside it ({path.name}): was it written by `arcttt solve --shard`?",
                       source=str(predictions)) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ArcError(f"malformed shard manifest: {exc}", source=str(path)) from exc
    return manifest.check(str(path))


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
        owned = set(manifest.tasks)
        for task_id in predictions:
            if task_id not in owned:
                # Silently dropping it would lose a prediction; keeping it would mix runs.
                raise ArcError(f"holds predictions for task {task_id}, which this shard does not own", source=name)
            if task_id in owner:
                raise ArcError(f"overlapping shards: task {task_id} is also in {owner[task_id]}", source=name)
            owner[task_id] = name
        check_shapes(name, manifest, predictions)
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


def check_shapes(name: str, manifest: Manifest, predictions: Predictions) -> None:
    """Every entry a real grid, one entry per test input: a merged file must be a valid submission."""
    expected = dict(zip(manifest.tasks, manifest.outputs))
    for task_id, entries in predictions.items():
        if not entries or (task_id in expected and len(entries) != expected[task_id]):
            want = expected.get(task_id, "at least 1")
            raise ArcError(f"{len(entries)} entries; the task has {want} test input(s)", source=name, task=task_id)
        for i, attempts in enumerate(entries):
            for k, grid in enumerate(attempts):
                parse_grid([list(row) for row in grid], source=name, task=task_id, field=f"[{i}].attempt_{k + 1}")


def merge_files(paths: list[Path]) -> Predictions:
    """`merge` over shard predictions files and their manifests."""
    return merge([(str(p), read_manifest(p), load_predictions(p)) for p in paths])
