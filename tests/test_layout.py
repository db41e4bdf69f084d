"""The layout's rules, as tests: the core never imports torch, and `import arcttt` stays cheap."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import arcttt.core

BLOCKED = """
import importlib, sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
for name in sys.argv[1:]:
    importlib.import_module(name)
assert "torch" not in sys.modules or sys.modules["torch"] is None
print("ok", len(sys.argv) - 1)
"""


def core_modules() -> list[str]:
    """The torch-free packages' modules: the core and the program-search expert."""
    import arcttt.programs

    return sorted([f"arcttt.core.{m.name}" for m in pkgutil.iter_modules(arcttt.core.__path__)]
                  + [f"arcttt.programs.{m.name}" for m in pkgutil.iter_modules(arcttt.programs.__path__)])


def test_every_core_module_imports_with_torch_blocked():
    names = core_modules()
    assert {"arcttt.core.tasks", "arcttt.core.config", "arcttt.core.score", "arcttt.core.budget",
            "arcttt.core.samples", "arcttt.programs.search"} <= set(names)
    run = subprocess.run([sys.executable, "-c", BLOCKED, *names, "arcttt", "arcttt.cli"], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).parent)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == f"ok {len(names) + 2}"


def test_the_engine_is_where_torch_is():
    run = subprocess.run([sys.executable, "-c", BLOCKED, "arcttt.engine.lm"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0 and "torch" in run.stderr  # the check above would notice a torch import


LONG = 60
"""Lines a function may take before its docstring must say why it is long ("Long because ...")."""


def test_no_function_is_long_without_a_reason():
    import ast

    package = Path(arcttt.core.__file__).parents[1]
    long = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > LONG:
                if "long because" not in (ast.get_docstring(node) or "").lower():
                    long.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name}")
    assert not long, long
