"""The packages are layers that point one way: stance <- labeling <- training <- the CLI.

``stance`` (paths, configs, the scheme, errors, file helpers) imports nothing of ours above it;
``labeling`` imports only ``stance``; ``training`` imports ``labeling`` and ``stance``; the
CLI (``stance/cli.py``) wires them all and nothing imports it. Every import is checked, those
inside functions too, so a lazy import cannot hide a back-edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("stance", "labeling", "training")
CLI = "stance.cli"
RANKS = {"stance": 0, "labeling": 1, "training": 2, CLI: 3}


def layer(module: str) -> str | None:
    """The layer of a dotted module name, or None for a module outside the project."""
    if module == CLI or module.startswith(CLI + "."):
        return CLI
    top = module.split(".", 1)[0]
    return top if top in PACKAGES else None


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """(line, module) for every import in the tree, at any depth; relative imports resolved."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x / from ..y import z
                package = module.split(".")[: -node.level]
                base = ".".join([*package, base] if base else package)
            # `from stance import cli` imports the module stance.cli
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return sorted(found)


def back_edges(source: str, module: str, where: str) -> list[str]:
    """Every import in ``source`` (the text of ``module``) that reaches a higher layer or the CLI."""
    own = layer(module)
    problems = []
    for line, target in imported(ast.parse(source), module):
        other = layer(target)
        if other is None or own is None or other == own:
            continue
        if RANKS[other] > RANKS[own] or other == CLI:
            problems.append(f"{where}:{line}: {own} imports {target} ({other} is a higher layer)")
    return problems


def project_back_edges(root: Path = ROOT) -> list[str]:
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            problems += back_edges(
                path.read_text(encoding="utf-8"), module_name(path, root), str(path.relative_to(root))
            )
    return problems


def test_imports_point_down_the_layers():
    problems = project_back_edges()
    assert not problems, "imports that run back up the layers:\n" + "\n".join(problems)


def test_a_planted_back_edge_is_reported_with_its_line():
    source = (
        "import json\n\n\ndef helper():\n    from training.predict import Predictor\n    return Predictor\n"
    )
    assert back_edges(source, "labeling.loop", "labeling/loop.py") == [
        "labeling/loop.py:5: labeling imports training.predict.Predictor (training is a higher layer)"
    ]
    assert back_edges("from stance.cli import run\n", "training.train", "training/train.py") == [
        "training/train.py:1: training imports stance.cli.run (stance.cli is a higher layer)"
    ]
    assert back_edges("from stance import cli\n", "stance.stack", "stance/stack.py") == [
        "stance/stack.py:1: stance imports stance.cli (stance.cli is a higher layer)"
    ]
    assert back_edges("import labeling.io\n", "stance.config", "stance/config.py") == [
        "stance/config.py:1: stance imports labeling.io (labeling is a higher layer)"
    ]
    # imports down the layers, and of outside packages, are fine
    assert back_edges("from stance import paths\nimport numpy\n", "training.train", "t.py") == []
    assert back_edges("from labeling import segment\n", "stance.cli", "stance/cli.py") == []


def test_a_planted_back_edge_in_a_copy_of_the_tree_fails_the_check(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "stance" / "paths.py").write_text('"""Paths."""\n\nfrom labeling.io import read_text\n')
    (tmp_path / "training" / "train.py").write_text(
        "from stance import paths\nfrom labeling import segment\n"
    )
    assert project_back_edges(tmp_path) == [
        "stance/paths.py:3: stance imports labeling.io.read_text (labeling is a higher layer)"
    ]
