"""The layout's rules, as tests: the core never imports torch, and `import arcttt` stays cheap."""

import ast
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
"""Lines a function may take before it must say why it is long: a comment in it that starts with
"# Long" (for the reader of the code), or "Long because" in its docstring."""


def says_why_it_is_long(node, lines: list[str]) -> bool:
    body = lines[node.lineno - 1:node.end_lineno]
    return (any(line.strip().lower().startswith("# long") for line in body)
            or "long because" in (ast.get_docstring(node) or "").lower())


def test_no_function_is_long_without_a_reason():
    package = Path(arcttt.core.__file__).parents[1]
    long = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > LONG:
                if not says_why_it_is_long(node, text.splitlines()):
                    long.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name}")
    assert not long, long


def test_the_length_rule_can_fail():
    tree = ast.parse("def f():\n    x = 1\n" + "    x += 1\n" * LONG)
    lines = ast.unparse(tree).splitlines()
    assert not says_why_it_is_long(tree.body[0], lines)
    assert says_why_it_is_long(ast.parse("def f():\n    # Long: a table\n    x = 1\n").body[0],
                               ["def f():", "    # Long: a table", "    x = 1"])


def every_command_help() -> dict[str, str]:
    """`arcttt --help` and every (sub)command's `--help`, by command path."""
    from typer.testing import CliRunner

    from arcttt.cli import app

    runner, texts = CliRunner(), {}

    def walk(group, path):
        texts[" ".join(path) or "arcttt"] = runner.invoke(app, [*path, "--help"], terminal_width=200).stdout
        for name, command in getattr(group, "commands", {}).items():
            walk(command, [*path, name])

    import typer.main

    walk(typer.main.get_command(app), [])
    return texts


def test_no_help_text_carries_a_developer_note():
    texts = every_command_help()
    assert {"arcttt", "solve", "pretrain", "leaderboard run"} <= set(texts)
    for command, text in texts.items():
        assert "Usage:" in text, command
        assert "long because" not in text.lower() and "# long" not in text.lower(), command


def package_modules() -> dict[str, Path]:
    """Every module of the `arcttt` package by dotted name: its Python files, and its compiled
    extensions (`programs._core`, which is imported but has no source to walk)."""
    package = Path(arcttt.core.__file__).parents[1]
    modules = {}
    for path in sorted(package.rglob("*")):
        if path.suffix not in (".py", ".so", ".pyd"):
            continue
        parts = [*path.relative_to(package.parent).parent.parts, path.name.split(".")[0]]
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(function_level: bool = True) -> dict[str, set[str]]:
    """Which arcttt modules each arcttt module imports: at module level, and with `function_level`
    also the lazy imports inside functions. `from a.b import c` counts as importing `a.b.c` where
    that is a module, else `a.b`. An `if TYPE_CHECKING:` block never runs, so it is left out."""
    modules = package_modules()
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}

    def targets(node: ast.AST, module: str) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        base = node.module
        if node.level:  # relative: from the module's own package, then one package up per extra dot
            package = module if module in packages else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]

    def walk(node: ast.AST, module: str, top: bool, found: set[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and (top or function_level):
                found.update(t for t in targets(child, module) if t in modules and t != module)
            inside = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            walk(child, module, top and not inside, found)

    graph = {}
    for name, path in modules.items():
        graph[name] = set()
        if path.suffix == ".py":
            walk(ast.parse(path.read_text(encoding="utf-8")), name, True, graph[name])
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path that ends where it starts (`[a, b, a]`), or [] if there is none."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_no_module_imports_itself_through_others():
    """No import cycle in the package, counting lazy imports inside functions too: a lazy import
    only defers a cycle (`engine.embedded` and `engine.model` once imported each other that way).
    The module-level graph is part of this one, so it has none either."""
    graph = import_graph()
    assert "arcttt.engine.vocab" in graph["arcttt.engine.embedded"]  # a lazy import inside a function is seen
    assert "arcttt.engine.vocab" not in import_graph(function_level=False)["arcttt.engine.embedded"]
    assert "arcttt.programs._core" in graph["arcttt.programs.search"]  # `from package import module`
    assert "arcttt.engine.model" not in graph["arcttt.engine.digest"]  # under TYPE_CHECKING only
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle(graph) == []


MODULE_LINES = 460
"""Lines a module of the package may take (about 450) before its docstring must say why it is long."""


def test_no_module_is_long_without_a_reason():
    package = Path(arcttt.core.__file__).parents[1]
    long = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MODULE_LINES and "long because" not in (ast.get_docstring(ast.parse(text)) or "").lower():
            long.append(f"{path.relative_to(package.parent)}: {len(text.splitlines())} lines")
    assert not long, long
