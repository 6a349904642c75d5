"""Arrows point one way: no private name crosses a module, and the encoder package has no import cycle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evosearch"


def imports(path: Path):
    """(module imported from, names) for every `from ... import ...` in the file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or ""), [a.name for a in node.names]


def test_no_private_name_crosses_a_module():
    crossing = [
        f"{path.relative_to(PACKAGE.parent)}: from {module} import {name}"
        for path in PACKAGE.rglob("*.py")
        for module, names in imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not crossing, crossing


def test_the_encoder_modules_import_each_other_without_a_cycle():
    """Function-level imports included: a lazy import in a circle is still a circle."""
    folder = PACKAGE / "encoder"
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    edges = {
        m: {module.lstrip(".") for module, _ in imports(folder / f"{m}.py") if module.startswith(".") and module.lstrip(".") in modules}
        for m in modules
    }
    assert edges["memory_numpy"].isdisjoint({"query_numpy", "minilm"}) and "minilm" not in edges["int8_encoder"]
    done, path = set(), []

    def visit(m):
        assert m not in path, " -> ".join(path[path.index(m) :] + [m])
        if m in done:
            return
        path.append(m)
        for n in edges[m]:
            visit(n)
        path.pop()
        done.add(m)

    for m in sorted(modules):
        visit(m)
