"""The import map: parsed with ``ast`` (top-level and function-level imports), checked against the layers.

text (words, word lists, sentences) is the bottom layer;
ingest -> index -> ranking -> service is the data path, eval and bench sit beside it, training
builds models from it, grounded is the CLI on top; harnesses (bench) and tests are never imported
by the product.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import PRODUCT, REPO

PACKAGES = (*PRODUCT, "bench", "tests")

ALLOWED_LAZY = frozenset({("grounded/cli.py", "bench.perf.cli")})
"""Function-level imports from the product into a harness that are allowed: ``grounded bench`` dispatch."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportEdge:
    """One import statement's target as seen from one file."""

    source: str
    """The importing file, relative to the repository (``service/app.py``)."""
    target: str
    """The imported module (``ingest.records``); for ``from X import name`` also ``X.name``."""
    line: int
    load_time: bool
    """False inside a function body or an ``if TYPE_CHECKING:`` block."""

    @property
    def source_package(self) -> str:
        """Top-level package of the importing file."""
        return self.source.split("/")[0]

    @property
    def target_package(self) -> str:
        """Top-level package of the imported module."""
        return self.target.split(".")[0]

    def __str__(self) -> str:
        when = "at load time" if self.load_time else "in a function"
        return f"{self.source}:{self.line} imports {self.target} ({when})"


def _module_of(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool, load_time: bool) -> Iterator[tuple[str, int, bool]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno, load_time) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno, load_time
            yield from ((f"{base}.{alias.name}", node.lineno, load_time) for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(node, module, is_package, False)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), module, is_package, False)
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), module, is_package, load_time)
        else:
            yield from _imports(node, module, is_package, load_time)


def all_edges() -> list[ImportEdge]:
    """Every import in every module of the repository's packages whose target is one of them."""
    edges = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            module = _module_of(path)
            for target, line, load_time in _imports(tree, module, path.name == "__init__.py", True):
                if target.split(".")[0] in PACKAGES:
                    edges.append(ImportEdge(source=path.relative_to(REPO).as_posix(), target=target,
                                            line=line, load_time=load_time))
    return edges


EDGES = all_edges()


def _violations(source: str, forbidden: tuple[str, ...]) -> list[str]:
    """Imports from package ``source`` of any module under the ``forbidden`` prefixes (any level)."""
    return [str(edge) for edge in EDGES if edge.source_package == source
            and any(edge.target == prefix or edge.target.startswith(prefix + ".") for prefix in forbidden)]


def test_the_parser_sees_top_level_function_level_and_relative_imports() -> None:
    source = ("from . import sibling\nimport ingest.records\nif TYPE_CHECKING:\n    import service.app\n"
              "def run() -> None:\n    from bench.perf.cli import main\n")
    found = set(_imports(ast.parse(source), "index.store", False, True))
    assert ("index.sibling", 1, True) in found
    assert ("ingest.records", 2, True) in found
    assert ("service.app", 4, False) in found
    assert ("bench.perf.cli.main", 6, False) in found
    assert len(EDGES) > 100


def test_no_import_cycle_between_top_level_packages() -> None:
    allowed = {(source.split("/")[0], target.split(".")[0]) for source, target in ALLOWED_LAZY}
    arrows = {(edge.source_package, edge.target_package) for edge in EDGES
              if edge.source_package != edge.target_package
              and (edge.source_package, edge.target_package) not in allowed}
    packages = sorted({package for arrow in arrows for package in arrow})
    reach = {package: {target for source, target in arrows if source == package} for package in packages}
    for middle, first, last in itertools.product(packages, repeat=3):  # transitive closure (Floyd-Warshall)
        if middle in reach[first] and last in reach[middle]:
            reach[first].add(last)
    cycles = sorted(package for package in packages if package in reach[package])
    assert not cycles, f"packages on an import cycle: {cycles}; arrows: {sorted(arrows)}"


def test_text_is_the_bottom_layer() -> None:
    assert _violations("text", tuple(package for package in PACKAGES if package != "text")) == []


def test_ingest_imports_nothing_above_it() -> None:
    assert _violations("ingest", ("index", "ranking", "grounding", "service", "eval", "grounded", "bench",
                                  "tests")) == []


def test_index_imports_nothing_from_the_service_eval_cli_or_harnesses() -> None:
    assert _violations("index", ("ranking", "grounding", "service", "eval", "grounded", "bench", "tests")) == []


def test_ranking_imports_only_index_and_ingest_records() -> None:
    assert _violations("ranking", ("ingest", "grounding", "service", "eval", "training", "grounded", "bench",
                                   "tests")) == []


def test_nothing_in_the_serving_path_imports_training() -> None:
    for package in ("ingest", "index", "ranking", "grounding", "service", "eval"):
        assert _violations(package, ("training",)) == []


def test_grounding_imports_only_index_and_ingest() -> None:
    assert _violations("grounding", ("service", "eval", "grounded", "bench", "tests")) == []


def test_the_product_never_imports_harnesses_or_tests() -> None:
    found = [str(edge) for edge in EDGES
             if edge.source_package in PRODUCT and edge.target_package in ("bench", "tests")
             and not (not edge.load_time and any(edge.source == source and edge.target.startswith(target)
                                                 for source, target in ALLOWED_LAZY))]
    assert found == []


def test_every_allowed_lazy_import_exists_and_is_inside_a_function() -> None:
    used = {(edge.source, edge.target) for edge in EDGES if not edge.load_time}
    loaded = {(edge.source, edge.target) for edge in EDGES if edge.load_time}
    assert used >= ALLOWED_LAZY, "ALLOWED_LAZY lists an import that no longer exists: shrink the list"
    assert not ALLOWED_LAZY & loaded


def test_harnesses_do_not_import_the_cli_module() -> None:
    assert _violations("bench", ("grounded.cli", "tests")) == []


def test_tests_import_shared_code_from_tests_support_only() -> None:
    found = [str(edge) for edge in EDGES if edge.source_package == "tests"
             and edge.target_package == "tests" and not edge.target.startswith("tests.support")]
    assert found == []


def test_no_load_time_import_cycle_between_harness_modules() -> None:
    modules = {_module_of(REPO / edge.source) for edge in EDGES if edge.source_package == "bench"}
    graph = {module: {edge.target for edge in EDGES if edge.load_time and _module_of(REPO / edge.source) == module
                      and edge.target in modules and edge.target != module} for module in modules}
    for module in sorted(modules):
        seen: set[str] = set()
        frontier = set(graph[module])
        while frontier:
            current = frontier.pop()
            assert current != module, f"{module} imports itself through {sorted(seen)}"
            if current not in seen:
                seen.add(current)
                frontier |= graph[current]


def test_service_does_not_reach_down_past_index() -> None:
    assert _violations("service", ("ingest",)) == []


def test_eval_does_not_reach_into_the_engine_module_or_ingest() -> None:
    assert _violations("eval", ("service.engine", "ingest")) == []
