"""The layering rules of docs/DESIGN.md, checked on the source with ``ast`` (nothing is imported).

- ``ingest`` never imports ``bot``; ``ingest/text`` imports nothing of the project (both sides use it);
- ``prompts`` imports nothing of the project (neither ``bot`` nor ``ingest``);
- inside ``bot``: surfaces → measure → (settings, wiring) → answering → citations → retrieval →
  ingest; a layer imports only its own and lower ones, so nothing imports ``surfaces``, and only
  ``surfaces`` (the CLI's ``eval`` and ``bench`` commands) imports ``measure``;
- nothing in ``bot/`` or ``ingest/`` reads the environment at import time (module level, class
  bodies and default arguments run on import; function bodies don't) — settings come from
  ``bot/settings.py``;
- only the entry points build a ``Settings`` object: ``bot/wiring.py``, ``bot/surfaces/cli.py``,
  ``bot/surfaces/web/app.py`` (its ``serve`` entry) and ``bot/measure/bench/runner.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "ingest", "prompts")
SETTINGS_BUILDERS = {"bot/wiring.py", "bot/surfaces/cli.py", "bot/surfaces/web/app.py", "bot/measure/bench/runner.py"}
ENV_READERS_AT_IMPORT = {"bot/settings.py"}


def source_files(*packages: str) -> list[Path]:
    """The ``.py`` files under each of ``packages`` (folders relative to the repository root)."""
    files = sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts)
    assert files, f"no sources found under {packages}"
    return files


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def package_of(path: Path) -> str:
    return rel(path).split("/", 1)[0]


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in the file, relative ones resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the file's package
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # "from bot import chain" imports bot.answering.chain
                yield node.lineno, f"{module}.{alias.name}" if module else alias.name


def top(module: str) -> str:
    return module.split(".", 1)[0]


def violations_importing(packages: tuple[str, ...], forbidden: set[str]) -> list[str]:
    return [
        f"{rel(path)}:{line}: imports {module}"
        for path in source_files(*packages)
        for line, module in imported_modules(path)
        if top(module) in forbidden
    ]


# --------------------------------------------------------------------------- imports


def test_ingest_never_imports_bot() -> None:
    assert violations_importing(("ingest",), {"bot"}) == []


def test_prompts_import_nothing_of_the_project() -> None:
    assert violations_importing(("prompts",), {"bot", "ingest"}) == []


def test_ingest_text_imports_nothing_of_the_project_but_itself() -> None:
    found = violations_importing(("ingest/text",), {"bot", "ingest", "prompts"})
    assert [v for v in found if not (v.endswith(" imports ingest.text") or " imports ingest.text." in v)] == []


#: The layers of ``bot`` from the top down: a module imports only modules of its own layer or below.
BOT_LAYERS = {
    "bot.__main__": 6,
    "bot.surfaces": 6,
    "bot.measure": 5,
    "bot.settings": 4,
    "bot.wiring": 4,
    "bot.answering": 3,
    "bot.citations": 2,
    "bot.retrieval": 1,
    "bot": 0,  # the package itself (its docstring)
}


def bot_layer(module: str) -> int:
    """The layer of a module of ``bot`` (its longest listed prefix); unknown modules fail the test."""
    for prefix in sorted(BOT_LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return BOT_LAYERS[prefix]
    raise AssertionError(f"{module} is in no layer of BOT_LAYERS: add it (and to docs/DESIGN.md)")


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bot_imports() -> list[tuple[str, int, str]]:
    """``(importing module, line, imported bot module)`` for every import of ``bot`` inside ``bot``."""
    return [
        (module_of(path), line, module)
        for path in source_files("bot")
        for line, module in imported_modules(path)
        if top(module) == "bot" and module != "bot"
    ]


def test_every_bot_module_has_a_layer() -> None:
    for path in source_files("bot"):
        bot_layer(module_of(path))


def test_bot_imports_only_its_own_layer_or_below() -> None:
    found = [f"{src}:{line}: imports {module}" for src, line, module in bot_imports() if bot_layer(module) > bot_layer(src)]
    assert found == [], "surfaces → measure → settings/wiring → answering → citations → retrieval → ingest"


def test_nothing_imports_surfaces() -> None:
    found = [
        f"{src}:{line}: imports {module}"
        for src, line, module in bot_imports()
        if module.startswith("bot.surfaces") and not (src.startswith("bot.surfaces") or src == "bot.__main__")
    ]
    assert found == []


def test_only_surfaces_import_measure() -> None:
    found = [
        f"{src}:{line}: imports {module}"
        for src, line, module in bot_imports()
        if module.startswith("bot.measure") and not src.startswith(("bot.measure", "bot.surfaces"))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("bot.surfaces.web.app", 6),
        ("bot.measure.bench.runner", 5),
        ("bot.wiring", 4),
        ("bot.answering.chain", 3),
        ("bot.citations.markers", 2),
        ("bot.retrieval.hybrid", 1),
        ("botany.retrieval", None),
    ],
)
def test_layer_lookup_itself(module: str, layer: int | None) -> None:
    if layer is None:
        with pytest.raises(AssertionError):
            bot_layer(module)
    else:
        assert bot_layer(module) == layer


# --------------------------------------------------------------------------- environment at import time


class _ImportTimeEnvReads(ast.NodeVisitor):
    """``os.environ`` / ``os.getenv`` / ``environ`` / ``getenv`` outside function bodies."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.os_aliases = {"os"}
        self.env_names: set[str] = set()

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "os":
                self.os_aliases.add(alias.asname or "os")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "os":
            for alias in node.names:
                if alias.name in ("environ", "getenv", "environb"):
                    self.env_names.add(alias.asname or alias.name)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        # The body runs when called; decorators and default values run at import.
        args = node.args
        for expr in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(expr)
        for dec in getattr(node, "decorator_list", []):
            self.visit(dec)

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function
    visit_Lambda = _visit_function

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if (
            isinstance(node.value, ast.Name)
            and node.value.id in self.os_aliases
            and node.attr
            in (
                "environ",
                "getenv",
                "environb",
            )
        ):
            self.found.append((node.lineno, f"{node.value.id}.{node.attr}"))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.env_names:
            self.found.append((node.lineno, node.id))


def import_time_env_reads(tree: ast.Module) -> list[tuple[int, str]]:
    visitor = _ImportTimeEnvReads()
    visitor.visit(tree)
    return visitor.found


def test_no_environment_reads_at_import_time() -> None:
    found = [
        f"{rel(path)}:{line}: {what}"
        for path in source_files("bot", "ingest")
        if rel(path) not in ENV_READERS_AT_IMPORT
        for line, what in import_time_env_reads(parse(path))
    ]
    assert found == [], "read the environment through bot.settings.Settings, not at import time"


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("import os\nX = os.environ.get('A')\n", True),
        ("import os\nX = os.getenv('A')\n", True),
        ("import os as o\nclass C:\n    x = o.environ['A']\n", True),
        ("from os import environ\nX = environ['A']\n", True),
        ("import os\ndef f(a=os.getenv('A')):\n    pass\n", True),
        ("import os\ndef f():\n    return os.environ.get('A')\n", False),
        ("import os\nclass C:\n    def m(self):\n        return os.getenv('A')\n", False),
        ("import os\nf = lambda: os.environ['A']\n", False),
        ("import os\nX = os.path.join('a', 'b')\n", False),
    ],
)
def test_env_checker_itself(code: str, flagged: bool) -> None:
    assert bool(import_time_env_reads(ast.parse(code))) is flagged


# --------------------------------------------------------------------------- who builds Settings


def settings_constructions(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, enclosing function)`` of every ``Settings(...)`` call (``""`` at module level)."""
    out: list[tuple[int, str]] = []

    def walk(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = func
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = child.name if not func else f"{func}.{child.name}"
            if isinstance(child, ast.Call):
                f = child.func
                if (isinstance(f, ast.Name) and f.id == "Settings") or (isinstance(f, ast.Attribute) and f.attr == "Settings"):
                    out.append((child.lineno, func))
            walk(child, name)

    walk(tree, "")
    return out


def test_only_entry_points_construct_settings() -> None:
    found = [
        f"{rel(path)}:{line} (in {func or 'module level'})"
        for path in source_files(*PACKAGES)
        if rel(path) not in SETTINGS_BUILDERS
        for line, func in settings_constructions(parse(path))
    ]
    assert found == [], "build Settings once at the entry point and pass it (or plain values) in"


def test_ui_builds_settings_only_in_its_serve_entry() -> None:
    ui = ROOT / "bot" / "surfaces" / "web" / "app.py"
    if not ui.exists():
        pytest.skip("no bot/surfaces/web/app.py")
    outside = [(line, func) for line, func in settings_constructions(parse(ui)) if func.split(".")[0] not in ("serve", "main")]
    assert outside == []


def test_settings_are_never_built_at_import_time() -> None:
    found = [
        f"{rel(path)}:{line}"
        for path in source_files(*PACKAGES)
        for line, func in settings_constructions(parse(path))
        if not func
    ]
    assert found == []


def test_ingest_functions_never_take_settings() -> None:
    """``ingest`` takes plain values, never the Settings object (it cannot even import it)."""
    found = []
    for path in source_files("ingest"):
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Name) and node.id == "Settings":
                found.append(f"{rel(path)}:{node.lineno}")
    assert found == []


def test_the_embedding_kinds_are_one_list():
    from bot.settings import EMBEDDING_KINDS
    from ingest.embeddings.factory import KINDS

    assert EMBEDDING_KINDS == KINDS
