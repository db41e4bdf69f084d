"""The one domain error type of arcttt, and the one way a library module tells the user something."""

from __future__ import annotations

import sys


class ArcError(Exception):
    """A problem with user input (a task file, a predictions file, a config), said in one line.

    The message names where the problem is: the file, the task id and the field, so that a user
    can open the file and fix it without reading a traceback.
    """

    def __init__(self, message: str, *, source: str | None = None, task: str | None = None,
                 field: str | None = None):
        self.source, self.task, self.field = source, task, field
        self.reason = message
        # File names and ids come from users: escaped, so that they cannot drive the terminal.
        where = ", ".join(
            printable(part) for part in (
                source,
                f"task {task}" if task is not None else None,
                f"field {field}" if field is not None else None,
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)


def printable(text: str) -> str:
    """`text` with control characters and undecodable bytes as escapes: safe to show on a terminal."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if 32 <= ord(c) < 127 or ord(c) >= 160 else c.encode("unicode_escape").decode() for c in text)


def notice(message: str) -> None:
    """One line for the user on stderr (stdout is for results), shown at once."""
    print(message, file=sys.stderr, flush=True)
