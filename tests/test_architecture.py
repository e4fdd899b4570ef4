"""The layout holds: no import circles, no Discord below bot/, modules small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("knowledge", "bot")
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path) -> set[str]:
    """Project modules this module imports, at any depth (functions too), but not the ones
    imported for type checking only. `from pkg import sub` counts as importing `pkg.sub`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    """One import circle among the project's modules, if there is any."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_no_module_imports_itself_in_a_circle():
    cycle = _cycle()
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_core_never_imports_discord_or_the_bot():
    for name, path in MODULES.items():
        if not name.startswith("knowledge"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in ("discord", "bot"), f"{name} imports {n}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small_enough_to_read(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES})"


def test_each_wing_says_what_it_is_for():
    for name, path in MODULES.items():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc, f"{name} opens with no docstring"


def test_the_checker_sees_a_circle_when_there_is_one():
    GRAPH["knowledge.vocab"].add("knowledge.config")  # config imports vocab: a circle
    try:
        assert _cycle() is not None
    finally:
        GRAPH["knowledge.vocab"].discard("knowledge.config")


# The operator's (unscoped) services that would show every server's data to a curator.
_OPERATOR_VIEWS = ("review", "exports", "db")


def _operator_uses(path: Path) -> list[str]:
    """`services.review` / `self.services.exports` / `services.db` ... in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _OPERATOR_VIEWS
            and isinstance(node.value, ast.Attribute | ast.Name)
            and getattr(node.value, "attr", getattr(node.value, "id", None)) == "services"
        ):
            found.append(f"services.{node.attr} (line {node.lineno})")
    return found


CURATOR_FACING = [n for n in MODULES if n.startswith(("bot.exts.review", "bot.exts.export"))]


@pytest.mark.parametrize("name", CURATOR_FACING)
def test_curator_commands_reach_the_core_only_through_their_servers_view(name):
    """What curators see comes from `bot.tenancy.curator_view` (one server's scoped services),
    never from the operator's services, which see every server."""
    allowed = {"bot.exts.export._cog": {"services.exports"}}  # deleting recalled posts only
    uses = {u.split(" ")[0] for u in _operator_uses(MODULES[name])}
    assert uses <= allowed.get(name, set()), f"{name} uses {sorted(uses)}"


def test_the_curator_view_check_sees_an_operator_use():
    assert _operator_uses(MODULES["bot.exts.me._cog"])  # /me forget uses services.exports
