"""The library's layers, and the import graph that keeps to them.

Each module belongs to one layer; a module imports only from its own layer and the ones
below it, and no modules import each other in a circle. Imports inside functions count
(they are imports all the same); those under `if TYPE_CHECKING:` do not (they run only
for a type checker). The one kind of exception is a result that draws itself in a
notebook (`.plot()`, `.report()`, `_repr_html_`): listed in UPWARD, each with its reason.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

ROOT = Path(__file__).parents[1]
FOLDERS = {"xorgpu": ROOT / "xorgpu", "xorgpu.cli": ROOT / "cli", "xorgpu.workers": ROOT / "workers"}

# lowest first: (layer, what it holds, its modules)
LAYERS = [
    ("vocabulary", "settings, limits, errors and the words everything is said in",
     ["xorgpu.errors", "xorgpu.config", "xorgpu.settings", "xorgpu.memory", "xorgpu.outcomes", "xorgpu.words",
      "xorgpu.lifetime", "xorgpu.version", "xorgpu.provenance", "xorgpu.presets", "xorgpu.params", "xorgpu.tasks"]),
    ("engines", "the backprop kernels and the arrays they run on",
     ["xorgpu.backend", "xorgpu.init", "xorgpu.engines", "xorgpu.engines.*", "xorgpu.notebook"]),
    ("results", "per-net results, their statistics and their files",
     ["xorgpu.results", "xorgpu.stats", "xorgpu.files", "xorgpu.tables", "xorgpu.result_files", "xorgpu.sweeps",
      "xorgpu.maps.axes", "xorgpu.maps.spec", "xorgpu.maps.result", "xorgpu.maps.dimension", "xorgpu.maps.zoom"]),
    ("training", "an experiment: its nets trained, in blocks and processes",
     ["xorgpu.experiment", "xorgpu.trajectory", "xorgpu.explain", "xorgpu.maps.train"]),
    ("service", "jobs in Redis, chunks and their results files, and what a SOURCE names",
     ["xorgpu.redis_url", "xorgpu.store", "xorgpu.results_store", "xorgpu.service", "xorgpu.sources"]),
    ("views", "what people read and look at, drawn from what they are given",
     ["xorgpu.text", "xorgpu.compare", "xorgpu.figures", "xorgpu.plots", "xorgpu.report_html", "xorgpu.sweep_table",
      "xorgpu.maps.render", "xorgpu.maps.summary"]),
    ("api", "the Python API a notebook uses", ["xorgpu", "xorgpu.api", "xorgpu.runs", "xorgpu.maps"]),
    ("commands", "the CLI and the Celery workers: thin layers over the library",
     ["xorgpu.cli", "xorgpu.cli.*", "xorgpu.workers", "xorgpu.workers.*"]),
]

# (importer, imported): why a lower module may import a higher one, inside a function
UPWARD = {
    ("xorgpu.maps.result", "xorgpu.maps.render"): "MapResult.plot() and _repr_html_ draw the map in a notebook",
    ("xorgpu.maps.result", "xorgpu.plots"): "MapResult.plot() gathers its figures as plots.Figures",
    ("xorgpu.maps.result", "xorgpu.report_html"): "MapResult.report() writes the page of `xorgpu report`",
}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = [p for p in path.relative_to(folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def layer_of(module: str) -> int:
    matches = [i for i, (_, _, patterns) in enumerate(LAYERS) if any(fnmatch.fnmatchcase(module, p) for p in patterns)]
    assert len(matches) == 1, f"{module} is in {len(matches)} layers: put it in one (tests/test_layers.py)"
    return matches[0]


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The xorgpu modules `module` imports anywhere but under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for child in node.body for n in ast.walk(child)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {module: imports(module, path, known) for module, path in known.items()}


def test_every_module_is_in_exactly_one_layer():
    for module in modules():
        layer_of(module)


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    for module, imported in graph().items():
        for other in imported:
            if layer_of(other) > layer_of(module) and (module, other) not in UPWARD:
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {other} "
                              f"({LAYERS[layer_of(other)][0]})")
    assert upward == [], "\n".join(sorted(upward))


def test_the_exceptions_are_imports_inside_functions_that_are_still_made():
    edges = graph()
    for module, other in UPWARD:
        assert other in edges[module], f"{module} no longer imports {other}: remove it from UPWARD"
        tree = ast.parse(modules()[module].read_text())
        top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
        assert not any(name and other.endswith(name.lstrip(".")) for name in top), f"{module} imports {other} at the top"


def test_no_modules_import_each_other_in_a_circle():
    edges = {module: {o for o in imported if (module, o) not in UPWARD} for module, imported in graph().items()}
    state: dict[str, str] = {}
    circles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for other in sorted(edges[module]):
            if state.get(other) == "open":
                circles.append(" -> ".join(trail[trail.index(other):] + [module, other]) if other in trail else
                               f"{module} -> {other}")
            elif other not in state:
                visit(other, [*trail, module])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    assert circles == [], "\n".join(circles)


def test_every_module_imports():
    """The fast tier touches every module: each imports (none needs CuPy or a GPU to)."""
    import importlib  # noqa: PLC0415

    for module in modules():
        importlib.import_module(module)
