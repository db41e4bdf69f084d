"""The kit's command line (`python scripts/gpu_kit.py ...`) and `plan`, which prints the device calls."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from arcttt.core.durable import write_json_atomic
from arcttt.core.errors import ArcError
from arcttt.engine.embedded import PREFILLED

from .common import CALL_LIMIT, KIT, MARGIN, MiB, folder_bytes, log, mib, tree_bytes
from .device import embedded_step, smoke
from .pack import pack
from .steps import ALONE, run_steps, steps_for
from .unpack import digest_of_cache, read_manifest, unpack

TIMEOUTS = {"1": 240, "2": 600}  # each call's timeout_s: its budget (steps.BUDGETS) plus the start and transfers


def plan(kit: Path, pretrain_seconds: float, limit: int = CALL_LIMIT) -> str:
    """The two device calls as `run(...)` lines, with the sizes they carry now."""
    manifest = read_manifest(kit)
    tree = tree_bytes()
    lines = ["GPU kit: two device calls, back to back while the machine is warm (files carried in call 1 stay",
             "there for call 2 only if the machine did not go back), then give_back.", ""]
    for call in ("1", "2"):
        carried = folder_bytes(kit / f"call{call}")
        total = tree + carried
        fits = "fits" if total + MARGIN <= limit else "DOES NOT FIT"
        extra = f" --pretrain-seconds {pretrain_seconds:g}" if call == "2" else ""
        command = f"python3 scripts/gpu_kit.py run --call {call} --device cuda --out $OUT{extra}"
        lines += [f"call {call}: carries .gpukit/call{call} (wheels + model part {call} + manifest) {mib(carried)} "
                  f"+ working tree {mib(tree)} = {mib(total)} of {mib(limit)}: {fits}",
                  f"  steps: {', '.join(s.name for s in steps_for(call))}",
                  f"  run(command={json.dumps(command)}, carry=[\".gpukit/call{call}\"], timeout_s={TIMEOUTS[call]})",
                  ""]
    lines += ["then: give_back()",
              "If call 2 lands on a fresh machine (call 1's files gone), it runs the steps that need no embedded",
              f"model instead: {', '.join(ALONE)}.",
              f"model: {len(manifest['tensors'])} GGUF tensors, {mib(sum(p['bytes'] for p in manifest['parts']))} "
              f"in {len(manifest['parts'])} parts; base digest {manifest['base_digest']}"]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpu_kit.py", description="The GPU kit: what a bare, lent GPU machine "
                                     "needs for arcttt, and the one prepared run that uses it (docs/GPU_KIT.md).")
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
    commands.add_parser("digest", help="arcttt's base digest of the embedded model, as JSON")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    try:
        dispatch(args)
    except ArcError as exc:
        print(f"gpu_kit: {exc}", file=sys.stderr)
        sys.exit(1)


def dispatch(args: argparse.Namespace) -> None:
    """One subcommand; results to stdout."""
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
        log(f"export PYTHONPATH={result['pythonpath']} ARCTTT_CACHE={args.cache} {PREFILLED}={result['cache']}")
    elif args.command == "run":
        if args.out is None:
            build_parser().error("--out is required where $OUT is not set")
        run_steps(args)
    elif args.command == "plan":
        log(plan(args.kit, args.pretrain_seconds))
    elif args.command in ("smoke", "embedded-step"):
        result = (smoke if args.command == "smoke" else embedded_step)(args.device)
        write_json_atomic(args.result, result, indent=1)
        log(json.dumps(result))
    elif args.command == "digest":
        print(json.dumps(digest_of_cache()))
