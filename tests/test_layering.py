"""The import map: parsed with ``ast`` (top-level and function-level imports), checked against the layers.

text (words, word lists, sentences) is the bottom layer;
ingest -> index -> ranking -> service is the data path, eval and bench sit beside it, training
builds models from it, grounded is the CLI on top; harnesses (bench) and tests are never imported
by the product.

Each product package has a face: ``__init__.pyi`` lists the names it offers (``from .load import
load_index``) and ``__init__.py`` loads each on first use (``lazy_loader``). Product code imports
another package only through its face (``from index import load_index``); inside a package,
modules import each other's submodules. Harnesses (bench) and tests may reach inside: they
measure, break and test internals. No two modules import each other, even through imports
inside functions (a loop that closes when the function runs).
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
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
    type_only: bool = False
    """True inside an ``if TYPE_CHECKING:`` block: never run."""
    name: bool = False
    """True for the ``X.name`` of ``from X import name`` (a name or a submodule of ``X``)."""

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


Found = tuple[str, int, bool, bool, bool]
"""``(target, line, load_time, type_only, name)`` of one import, as ``ImportEdge`` holds them."""


def _imports(tree: ast.AST, module: str, is_package: bool, load_time: bool,
             type_only: bool = False) -> Iterator[Found]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno, load_time, type_only, False) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno, load_time, type_only, False
            yield from ((f"{base}.{alias.name}", node.lineno, load_time, type_only, True) for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(node, module, is_package, False, type_only)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), module, is_package, False, True)
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), module, is_package, load_time,
                                    type_only)
        else:
            yield from _imports(node, module, is_package, load_time, type_only)


def all_edges() -> list[ImportEdge]:
    """Every import in every module of the repository's packages whose target is one of them."""
    edges = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            module = _module_of(path)
            for target, line, load_time, type_only, name in _imports(tree, module, path.name == "__init__.py",
                                                                      True):
                if target.split(".")[0] in PACKAGES:
                    edges.append(ImportEdge(source=path.relative_to(REPO).as_posix(), target=target,
                                            line=line, load_time=load_time, type_only=type_only, name=name))
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
    assert ("index", 1, True, False, False) in found
    assert ("index.sibling", 1, True, False, True) in found
    assert ("ingest.records", 2, True, False, False) in found
    assert ("service.app", 4, False, True, False) in found
    assert ("bench.perf.cli.main", 6, False, False, True) in found
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


# ------------------------------------------------------------------------------------------ faces


def _declared_all(tree: ast.Module) -> list[str] | None:
    """The literal ``__all__`` of a module, or None when it has none."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id == "__all__"
                                                for target in node.targets):
            return [ast.literal_eval(element) for element in node.value.elts]  # type: ignore[attr-defined]
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Face:
    """What one package offers other packages: each public name and the module that defines it."""

    package: str
    declared: tuple[str, ...]
    """``__all__`` as written in ``__init__.pyi`` (or ``__init__.py`` for a package without a stub)."""
    defined_in: Mapping[str, str]
    """Public name -> the module it is loaded from (``load_index`` -> ``index.load``)."""


def read_face(package: str) -> Face:
    """The face of a package, from its ``__init__.pyi`` (lazy) or its ``__init__.py`` (eager)."""
    stub = REPO / package / "__init__.pyi"
    path = stub if stub.exists() else REPO / package / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    defined_in: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and stub.exists():
            assert node.level == 1, f"{path}:{node.lineno}: a face lists its own modules, as `from .module import name`"
            for alias in node.names:
                defined_in[alias.name] = f"{package}.{node.module}" if node.module else f"{package}.{alias.name}"
    declared = _declared_all(tree)
    assert declared is not None, f"{path} declares no __all__: list the package's public names there"
    for name in declared:
        defined_in.setdefault(name, package)
    return Face(package=package, declared=tuple(declared), defined_in=defined_in)


FACES = {package: read_face(package) for package in PRODUCT}


def test_every_product_package_lists_its_face_once_and_loads_it_lazily() -> None:
    for package, face in FACES.items():
        assert len(face.declared) == len(set(face.declared)), f"{package}: __all__ lists a name twice"
        assert set(face.declared) == set(face.defined_in), (
            f"{package}/__init__.pyi: __all__ and the imported names differ by "
            f"{sorted(set(face.declared) ^ set(face.defined_in))}")
        if (REPO / package / "__init__.pyi").exists():
            assert sorted(importlib.import_module(package).__all__) == sorted(face.declared)


def test_importing_every_face_loads_no_heavy_library() -> None:
    heavy = ("numpy", "faiss", "torch", "ray", "onnxruntime", "fastapi", "bm25s", "lxml", "matplotlib")
    code = (f"import sys, {', '.join(package for package in PRODUCT)}; "
            f"loaded = [name for name in {heavy!r} if name in sys.modules]; "
            "assert not loaded, f'importing the faces loaded {loaded}'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def _face_violations(edges: list[ImportEdge]) -> list[str]:
    """Product imports of another product package's submodule, or of a name its face does not offer."""
    found = []
    for edge in edges:
        if edge.source_package not in PRODUCT or edge.target_package not in PRODUCT:
            continue
        face = FACES[edge.target_package]
        base, _, name = edge.target.rpartition(".")
        if edge.source_package == edge.target_package:
            if edge.name and base == face.package and face.defined_in.get(name, face.package) != face.package:
                found.append(f"{edge}: inside a package, import the submodule, not the package's own face")
            continue
        if not edge.name and edge.target != edge.target_package:
            found.append(f"{edge}: import from the face `{edge.target_package}` instead")
        elif edge.name and base == edge.target_package and name not in face.defined_in:
            found.append(f"{edge}: `{name}` is not in {edge.target_package}/__init__.pyi; add it there or "
                         "keep it internal")
    return found


def test_product_code_imports_other_packages_only_through_their_faces() -> None:
    assert _face_violations(EDGES) == []


def test_the_face_check_sees_a_submodule_import_and_an_unlisted_name() -> None:
    def edge(target: str, *, name: bool) -> ImportEdge:
        return ImportEdge(source="ranking/stages.py", target=target, line=1, load_time=True, name=name)

    assert _face_violations([edge("index", name=False), edge("index.load_index", name=True)]) == []
    assert len(_face_violations([edge("index.load", name=False), edge("index.load.load_index", name=True)])) == 1
    assert len(_face_violations([edge("index", name=False), edge("index.sparse", name=True)])) == 1
    assert len(_face_violations([edge("ranking", name=False), edge("ranking.RankingConfig", name=True)])) == 1


# ----------------------------------------------------------------------------------- module cycles

MODULES = frozenset(_module_of(path) for package in PACKAGES for path in (REPO / package).rglob("*.py"))


def _module_imported(edge: ImportEdge) -> str | None:
    """The module an import runs: through a face, the module that defines the name."""
    if edge.target in MODULES:
        return edge.target
    base, _, name = edge.target.rpartition(".")
    if edge.name and base in MODULES:
        face = FACES.get(base)
        return face.defined_in.get(name, base) if face is not None else base
    return None


def module_graph(edges: list[ImportEdge]) -> dict[str, set[str]]:
    """Module -> the modules it imports when it loads or when one of its functions runs."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        source = _module_of(REPO / edge.source)
        target = _module_imported(edge)
        if not edge.type_only and target is not None and target != source:
            graph.setdefault(source, set()).add(target)
    return graph


def import_cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` (its modules in import order), or ``[]`` when there is none."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []


def test_no_two_modules_import_each_other_even_inside_functions() -> None:
    cycle = import_cycle(module_graph(EDGES))
    assert cycle == [], f"an import cycle (function-level imports included): {' -> '.join(cycle)}"


def test_the_cycle_check_sees_a_loop_closed_by_a_function_level_import() -> None:
    edges = [ImportEdge(source="index/load.py", target="index.sharded", line=1, load_time=False),
             ImportEdge(source="index/sharded.py", target="index.load", line=1, load_time=True)]
    assert set(import_cycle(module_graph(edges))) == {"index.load", "index.sharded"}
    only_typing = [*edges[1:], ImportEdge(source="index/load.py", target="index.sharded", line=1, load_time=False,
                                          type_only=True)]
    assert import_cycle(module_graph(only_typing)) == []
