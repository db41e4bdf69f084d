"""Tasks and predictions as coloured grids in the terminal, in ARC's ten colours."""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from arcttt.core.errors import printable
from arcttt.core.grids import Grid, shape
from arcttt.core.predictions import Attempts
from arcttt.core.tasks import Task

# The palette of the ARC web interface: black, blue, red, green, yellow, grey, magenta, orange,
# azure, maroon.
COLOURS = ("#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
           "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25")
_DARK = {0, 1, 6, 9}


def grid_text(grid: Grid) -> Text:
    """Each cell as its digit on its colour, so the grid reads even where colour is stripped."""
    text = Text()
    for r, row in enumerate(grid):
        if r:
            text.append("\n")
        for cell in row:
            if not 0 <= cell < len(COLOURS):  # a predicted grid is not validated: show, don't crash
                text.append(f" {cell}", style="bold red")
                continue
            fg = "white" if cell in _DARK else "black"
            text.append(f" {cell}", style=f"{fg} on {COLOURS[cell]}")
    return text


def _title(label: str, grid: Grid | None) -> str:
    return f"{label} {'x'.join(map(str, shape(grid)))}" if grid is not None else label


def task_view(task: Task, predictions: tuple[Attempts, ...] | None = None) -> Group:
    """A task's demonstrations and tests; with predictions, each attempt marked right or wrong."""
    parts = []
    name = escape(printable(task.id))  # an id is user text: no markup, no control characters
    demos = Table(title=f"{name}: {len(task.train)} demonstrations", show_lines=True)
    demos.add_column("#")
    demos.add_column("input")
    demos.add_column("output")
    for i, example in enumerate(task.train):
        demos.add_row(str(i), _title("", example.input), _title("", example.output))
        demos.add_row("", grid_text(example.input), grid_text(example.output))
    parts.append(demos)
    tests = Table(title=f"{name}: {len(task.test)} test input(s)", show_lines=True)
    for column in ("#", "input", "expected") + (("attempt 1", "attempt 2") if predictions is not None else ()):
        tests.add_column(column)
    for i, example in enumerate(task.test):
        cells = [grid_text(example.input), grid_text(example.output) if example.output else Text("unknown")]
        heads = [_title("", example.input), _title("", example.output)]
        if predictions is not None:
            attempts = predictions[i] if i < len(predictions) else None
            for k in range(2):
                if attempts is None:
                    heads.append("missing")
                    cells.append(Text(""))
                    continue
                grid = attempts[k]
                mark = "" if example.output is None else ("right" if grid == example.output else "wrong")
                heads.append(mark)
                cells.append(grid_text(grid) if grid and all(grid) else Text("(empty grid)"))
        tests.add_row(str(i), *heads)
        tests.add_row("", *cells)
    parts.append(tests)
    return Group(*parts)
