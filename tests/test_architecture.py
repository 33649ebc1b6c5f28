"""The layers of the code, read from its source: every import of every module (migrations
included), at any depth of the package tree, must point to the importing package's own layer or
one below it.  Lower layers tell higher ones what happened through signals
(`billing.signals`), never by importing them.

    common      shared infrastructure: fail-open cache, metrics, dashboard forms and formatting
    accounts    the account model and sign-in
    apikeys     keys, authentication, the rate limiter
    api         the Public API framework: envelope, params, base views, schema
    apikeys.api the key endpoints (leak reports): built on the framework, so above it
    billing     plans, ledger, balances
    proxies     proxies, their usage and status rules (A10), the geo directory
    stats       reports, usage recording, the CSV export
    demo        demo data
    config      settings, URLs (the /v1/ router), WSGI: wires everything

The second rule: imports of the project's packages sit at module top, so the graph above is the
one Python really follows; the only function-level import allowed is `AppConfig.ready`
connecting signal receivers.
"""

import ast
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    "common",
    "accounts",
    "apikeys",
    "api",
    "apikeys.api",
    "billing",
    "proxies",
    "stats",
    "demo",
    "config",
]
RANK = {package: rank for rank, package in enumerate(LAYERS)}
TOP_PACKAGES = sorted({package.split(".")[0] for package in LAYERS})


def layer_of(module: str) -> str | None:
    """The layer a module belongs to: the longest entry of LAYERS that contains it."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        candidate = ".".join(parts[:length])
        if candidate in RANK:
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, absolute module, inside a function) for every import statement in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - (child.level - 1)]
                    target = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                found.append((child.lineno, target, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def project_imports() -> list[tuple[Path, int, str, str, bool]]:
    """(file, line, importing package, imported package, in a function) across the project."""
    edges = []
    for top in TOP_PACKAGES:
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            source = layer_of(module_name(path))
            for line, target, in_function in imports(path):
                layer = layer_of(target)
                if source is not None and layer is not None:
                    edges.append((path, line, source, layer, in_function))
    return edges


def test_the_source_is_read_whole():
    """The scan sees the imports that matter, so the rules below cannot pass by seeing nothing."""
    edges = project_imports()
    assert len({path for path, *_ in edges}) > 50
    pairs = {(source, target) for _, _, source, target, _ in edges if source != target}
    assert {("stats", "proxies"), ("proxies", "billing"), ("api", "apikeys")} <= pairs
    assert ("config", "api") in pairs  # the /v1/ router mounts the API framework's views
    assert {("apikeys.api", "api"), ("apikeys.api", "apikeys")} <= pairs


def test_every_import_points_to_the_same_layer_or_below():
    upward = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {source} imports {target}"
        for path, line, source, target, _ in project_imports()
        if RANK[target] > RANK[source]
    ]
    assert upward == [], "imports up the layers:\n" + "\n".join(upward)


def test_the_package_graph_has_no_cycle():
    graph: dict[str, set[str]] = {package: set() for package in LAYERS}
    for _, _, source, target, _ in project_imports():
        if source != target:
            graph[source].add(target)
    visiting: list[str] = []
    done: set[str] = set()

    def walk(package: str) -> None:
        if package in visiting:
            cycle = [*visiting[visiting.index(package) :], package]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if package in done:
            return
        visiting.append(package)
        for target in sorted(graph[package]):
            walk(target)
        visiting.pop()
        done.add(package)

    for package in LAYERS:
        walk(package)


def test_project_imports_sit_at_module_top():
    hidden = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: imports {target} inside a function"
        for path, line, _, target, in_function in project_imports()
        if in_function and path.name != "apps.py"
    ]
    assert hidden == [], "function-level imports:\n" + "\n".join(hidden)


def test_the_scan_catches_an_upward_import(tmp_path, monkeypatch):
    """The checker itself: a billing module importing stats, even inside a function, is found."""
    module = tmp_path / "billing" / "sneaky.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from stats.services import usage_record\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "PROJECT_ROOT", tmp_path)
    for package in LAYERS:
        (tmp_path / package).mkdir(exist_ok=True)
    edges = project_imports()
    assert [(source, target, in_function) for _, _, source, target, in_function in edges] == [
        ("billing", "stats", True)
    ]
