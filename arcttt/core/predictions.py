"""The Kaggle predictions format: `{task id: [{"attempt_1": grid, "attempt_2": grid}, ...]}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arcttt.core.errors import ArcError
from arcttt.core.grids import Grid, to_json
from arcttt.core.tasks import read_json

Attempts = tuple[Grid, Grid]
Predictions = dict[str, tuple[Attempts, ...]]
ATTEMPT_KEYS = ("attempt_1", "attempt_2")


def _attempt(obj: Any, source: str, task: str, field: str) -> Grid:
    # Lenient on size and colours (a wrong answer is just wrong), strict on shape of the data.
    if not isinstance(obj, list) or not all(
            isinstance(row, list) and all(isinstance(c, int) and not isinstance(c, bool) for c in row)
            for row in obj):
        raise ArcError("an attempt must be a grid: a list of lists of integers", source=source, task=task, field=field)
    return tuple(tuple(row) for row in obj)


def parse_predictions(obj: Any, source: str) -> Predictions:
    """Validate a predictions JSON value; errors name the file, task and field."""
    if not isinstance(obj, dict):
        raise ArcError(f"predictions must be a JSON object {{task id: [...]}}, got {type(obj).__name__}", source=source)
    out: Predictions = {}
    for task_id, outputs in obj.items():
        if not isinstance(outputs, list):
            raise ArcError("must be a list with one {attempt_1, attempt_2} object per test input",
                           source=source, task=task_id)
        entries = []
        for i, entry in enumerate(outputs):
            if not isinstance(entry, dict):
                raise ArcError("must be an object with attempt_1 and attempt_2", source=source, task=task_id,
                               field=f"[{i}]")
            missing = [key for key in ATTEMPT_KEYS if key not in entry]
            if missing:
                raise ArcError("missing", source=source, task=task_id, field=f"[{i}].{missing[0]}")
            entries.append(tuple(_attempt(entry[k], source, task_id, f"[{i}].{k}") for k in ATTEMPT_KEYS))
        out[task_id] = tuple(entries)
    return out


def load_predictions(path: str | Path) -> Predictions:
    """Read and validate a predictions file."""
    return parse_predictions(read_json(Path(path)), str(path))


def to_jsonable(predictions: Predictions) -> dict[str, list[dict[str, list[list[int]]]]]:
    return {
        task_id: [{key: to_json(grid) for key, grid in zip(ATTEMPT_KEYS, attempts)} for attempts in outputs]
        for task_id, outputs in predictions.items()
    }


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON through a temp file and rename, so a crash never leaves half a file."""
    from arcttt.core.durable import write_json_atomic as write

    write(path, obj)


def write_predictions(path: str | Path, predictions: Predictions) -> None:
    """Write predictions in the Kaggle format, atomically."""
    write_json_atomic(path, to_jsonable(predictions))
