"""Open an `arcttt report` page in a headless Chromium: screenshots of the task table and of one
task's detail, the page's size and its load time in a real browser.

Usage:
  python scripts/report_screenshots.py runs/x/predictions.report.html --out-dir shots [--task ID]
  python scripts/report_screenshots.py --quick --out-dir DIR   # a program-only run of data/sample, then the above

Load time is what the page itself records in `<html data-ready>`: milliseconds from navigation to
the end of its script (table ready, the detail drawn when the URL names a task), median of --loads.
The detail shown is --task, else the first task with a wrong attempt of the truth's shape (its
differing cells are marked), else the first task. Prints one JSON object. Where no Chromium is
installed (Debian: apt-get install chromium) it prints {"skipped": why} and exits 0.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SAMPLE_TASKS = Path(__file__).resolve().parent.parent / "data" / "sample"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def headless(binary: str, profile: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """One headless Chromium run with a throwaway profile (no sandbox: CI containers run as root)."""
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout)


def page_tasks(page: Path) -> list[dict]:
    """The tasks the page embeds (its JSON data)."""
    text = page.read_text(encoding="utf-8")
    data = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(data[1].replace("<\\/", "</").replace("<\\!--", "<!--"))["tasks"]


def interesting(tasks: list[dict]) -> str:
    """A task worth a screenshot: a wrong attempt of the truth's shape (cells marked), else the first."""
    for task in tasks:
        for pair, truth in zip(task["attempts"], task["truth"] or []):
            if task["status"] == "wrong" and any(len(g) == len(truth) and len(g[0]) == len(truth[0]) and g != truth
                                                 for g in pair):
                return task["id"]
    return tasks[0]["id"]


def load_ms(binary: str, profile: Path, url: str) -> int:
    """Milliseconds the page took to be ready, as it records them in <html data-ready>."""
    done = headless(binary, profile, "--dump-dom", url)
    found = re.search(r'<html[^>]*data-ready="(\d+)"', done.stdout)
    if not found:
        raise SystemExit(f"the page never finished its script: {done.stderr[-500:]}")
    return int(found[1])


def shoot(binary: str, page: Path, out_dir: Path, task: str | None, size: str, loads: int) -> dict:
    """Both screenshots and the load times of `page`, as the JSON the script prints."""
    from urllib.parse import quote

    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = page_tasks(page)
    task = task or interesting(tasks)
    url = page.resolve().as_uri()
    detail = f"{url}#t={quote(task, safe='')}"
    with tempfile.TemporaryDirectory(prefix="arcttt-chromium-") as profile:
        shots = {}
        for name, target in (("table", url), ("detail", detail)):
            shots[name] = out_dir / f"report-{name}.png"
            done = headless(binary, Path(profile), f"--window-size={size}", f"--screenshot={shots[name]}", target)
            if not shots[name].exists():
                raise SystemExit(f"no screenshot of the {name}: {done.stderr[-500:]}")
        table_ms = [load_ms(binary, Path(profile), url) for _ in range(loads)]
        detail_ms = [load_ms(binary, Path(profile), detail) for _ in range(loads)]
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    return {"page": str(page), "bytes": page.stat().st_size, "tasks": len(tasks), "task": task,
            "load_ms": statistics.median(table_ms), "load_ms_with_detail": statistics.median(detail_ms),
            "loads": loads, "table": str(shots["table"]), "detail": str(shots["detail"]), "browser": version}


def quick_page(out_dir: Path) -> Path:
    """A program-only run of the sample tasks (seconds) and its report."""
    out = out_dir / "run" / "predictions.json"
    for args in (["solve", str(SAMPLE_TASKS), "--expert", "program", "--program-time", "0.5s", "--out", str(out),
                  "--overwrite"], ["report", str(out)]):
        done = subprocess.run([sys.executable, "-m", "arcttt", *args], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"arcttt {args[0]} failed: {done.stderr[-1000:]}")
    return out.with_name("predictions.report.html")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path, help="The page `arcttt report` wrote.")
    parser.add_argument("--out-dir", type=Path, default=Path("."), help="Where the PNGs go.")
    parser.add_argument("--task", help="The task whose detail to take (default: one with a wrong attempt).")
    parser.add_argument("--size", default="1400,900", help="Window size, W,H pixels.")
    parser.add_argument("--loads", type=int, default=3, help="Page loads timed (the median is reported).")
    parser.add_argument("--quick", action="store_true", help="Make a small page first (CI).")
    args = parser.parse_args()
    if (args.page is None) == (not args.quick):
        parser.error("give a PAGE or --quick")
    binary = browser()
    if binary is None:
        print(json.dumps({"skipped": f"no Chromium here ({', '.join(BROWSERS)}); on Debian: apt-get install chromium"}))
        return
    page = quick_page(args.out_dir) if args.quick else args.page
    if not page.is_file():
        parser.error(f"{page}: no such page")
    print(json.dumps(shoot(binary, page, args.out_dir, args.task, args.size, 1 if args.quick else args.loads)))


if __name__ == "__main__":
    main()
