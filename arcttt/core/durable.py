"""Files that survive a kill at any moment: atomic replacement, synced appends, one writer per output.

Every output of arcttt goes through here. A file is replaced by writing a temp file beside it,
syncing it, renaming it over the target and syncing the folder, so a reader (or a resumed run)
sees the old content or the new, never half. Appended logs are synced line by line and read back
tolerating a torn last line (the one a kill interrupted). A lock file beside an output keeps two
runs from writing it at once; the kernel drops the lock when its process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any, Iterator

from arcttt.core.errors import ArcError

TEMP_SUFFIX = ".tmp"
# Fault injection for scripts/chaos.py: seconds to pause in the middle of every write and append,
# so that random kills land inside them often. Zero (unset) in any real run.
CHAOS_PAUSE = float(os.environ.get("ARCTTT_CHAOS_PAUSE") or 0)
# Fault injection for scripts/chaos.py --every-write: SIGKILL this process in the middle of its N-th
# atomic write (counted from 1), so that a test can kill inside each write of a run in turn.
# Zero (unset) in any real run.
CHAOS_KILL_AT = int(os.environ.get("ARCTTT_CHAOS_KILL_AT") or 0)
_write_number = itertools.count(1)
# What `_temp_name` makes: a dot, the target's name, 12 hex digits, the suffix.
_TEMP_PATTERN = re.compile(rf"\..+\.[0-9a-f]{{12}}{re.escape(TEMP_SUFFIX)}")


def _chaos_pause() -> None:
    if CHAOS_PAUSE:
        import time

        time.sleep(CHAOS_PAUSE)


def _chaos_kill() -> None:
    if next(_write_number) == CHAOS_KILL_AT:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")


def sync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders; the rename itself is still atomic
    finally:
        os.close(fd)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` atomically; the new file gets the usual mode (0666 less the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    # os.open with 0o666 lets the umask decide the mode, as for any file a program creates
    # (mkstemp would force 0600 and hide predictions from a shared group).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data[:len(data) // 2])
            f.flush()
            _chaos_kill()
            _chaos_pause()
            f.write(data[len(data) // 2:])
            f.flush()
            os.fsync(f.fileno())
        _chaos_pause()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_dir(path.parent)


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, obj: Any, indent: int | None = None) -> None:
    separators = None if indent is not None else (",", ":")
    write_text_atomic(path, json.dumps(obj, indent=indent, separators=separators) + ("\n" if indent else ""))


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files a killed writer of `path` left behind; call it while holding `path`'s lock."""
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def remove_stale_temps_in(folder: Path) -> list[Path]:
    """Delete every temp file a killed `write_bytes_atomic` left directly in `folder` (not below it);
    call it while holding the lock of the output that `folder` is."""
    removed = []
    for tmp in sorted(folder.iterdir()):
        if _TEMP_PATTERN.fullmatch(tmp.name) and tmp.is_file():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def append_line(path: Path, record: dict) -> None:
    """Append one JSON line and sync it: a finished task's record survives a kill right after."""
    line = json.dumps(record) + "\n"
    with path.open("a", encoding="utf-8") as f:
        f.write(line[:len(line) // 2])
        f.flush()
        _chaos_pause()
        f.write(line[len(line) // 2:])
        f.flush()
        os.fsync(f.fileno())


def repair_tail(path: Path) -> None:
    """Cut a torn last line (no newline: a kill mid-append) so the next append starts a clean line."""
    try:
        with path.open("rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
                f.flush()
                os.fsync(f.fileno())
    except FileNotFoundError:
        pass


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines log; a torn last line is skipped, a bad line elsewhere is an error."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ArcError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    records = []
    last = len(lines) - 1
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            if n == last:  # no newline after it: a kill interrupted this append
                break
            raise ArcError(f"line {n + 1} is not JSON ({exc}); the log is damaged", source=str(path)) from exc
        if not isinstance(record, dict):
            raise ArcError(f"line {n + 1} is not a JSON object; the log is damaged", source=str(path))
        records.append(record)
    return records


# Locks this process holds: path -> (fd, depth). Re-entrant, so that a run can take the lock early
# (to check and write a shard manifest) and the solve loop can take it again.
_held: dict[Path, list[int]] = {}


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def output_lock(path: str | Path) -> Iterator[None]:
    """Hold the lock on output `path` (a `PATH.lock` file) or fail at once, naming the holder."""
    path = Path(path).absolute()
    if path in _held:
        _held[path][1] += 1
        try:
            yield
        finally:
            _held[path][1] -= 1
        return
    target = lock_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ArcError(f"another arcttt process (pid {holder}) is writing this output; wait for it to "
                               f"finish, or choose another --out (lock file {target.name})", source=str(path)) from None
            raise ArcError(f"cannot lock {target.name}: {exc.strerror or exc}", source=str(path)) from exc
        # The holder before us may have deleted the lock file after we opened it: then our lock
        # is on an orphan inode that nobody else will see. Lock the file at the path instead.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(target))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held[path] = [fd, 1]
    try:
        yield
    finally:
        _held[path][1] -= 1
        if _held[path][1] == 0:
            del _held[path]
            with contextlib.suppress(FileNotFoundError):
                target.unlink()  # while still locked, so nobody can take a lock on it meanwhile
            os.close(fd)
