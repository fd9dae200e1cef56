"""The layers point one way (README, "Architecture"): read from the source's imports, function-
level imports included, so a shortcut inside a function counts too (imports only for type
checkers, under `if TYPE_CHECKING:`, do not run and do not count)."""

from __future__ import annotations

import ast

from tests.conftest import REPO_ROOT


def module_name(path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST):
    """Every node of `tree` except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *runtime_nodes(child)])
            continue
        yield node
        yield from runtime_nodes(node)


def imports() -> dict[str, set[str]]:
    """Each module of archs, search and studies -> the project modules it imports; a name taken
    from `search.study` (which loads its names lazily) counts as an import of its home module."""
    import search.study

    homes = search.study._HOMES
    found: dict[str, set[str]] = {}
    for package in ("archs", "search", "studies"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            names: set[str] = set()
            for node in runtime_nodes(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    assert not node.level, f"{path}: a relative import; this reader needs names"
                    names.add(node.module)
                    names.update(f"{node.module}.{alias.name}" for alias in node.names)
                    if node.module == "search.study":
                        names.update(homes[a.name] for a in node.names if a.name in homes)
            found[module_name(path)] = {
                n for n in names if n.split(".")[0] in ("archs", "search", "studies")
            }
    return found


def offenders(source: str, targets: tuple[str, ...], allow: tuple[str, ...] = ()) -> list[str]:
    """'module -> import' for every module under `source` importing under one of `targets`."""
    within = lambda name, roots: any(name == r or name.startswith(r + ".") for r in roots)  # noqa: E731
    return sorted(
        f"{module} -> {name}"
        for module, names in imports().items()
        if within(module, (source,)) and module not in allow
        for name in names
        if within(name, targets)
    )


def test_the_import_reader_sees_real_imports():
    found = imports()
    assert "search.store.trials" in found["search.runner.confirm"]
    assert "search.study" in found["studies.cnn20k"]
    assert "search.study.definitions" in found["studies.cnn20k"]  # CnnStudy's home, lazily
    assert len(found) > 80


def test_studies_import_neither_the_runner_nor_the_workers_console_or_reports():
    assert offenders("studies", ("search.runner", "search.workers", "search.console",
                                 "search.reports")) == []  # fmt: skip


def test_reports_read_the_store_never_the_runner_workers_or_studies():
    assert offenders("search.reports", ("search.runner", "search.workers", "studies")) == []


def test_the_study_api_and_the_store_know_no_runner_workers_console_or_studies():
    upper = ("search.runner", "search.workers", "search.console", "search.reports", "studies")
    assert offenders("search.study", (*upper, "search.engine")) == []  # it only reads a Profile
    assert offenders("search.store", upper) == []
    # the engine's one command (python -m search.data fetch) uses the shared command-line parts
    assert offenders("search.engine", (*upper, "search.cli"), allow=("search.engine.idx",)) == []
    assert offenders("search.study", ("search.cli",)) == offenders("search.store", ("search.cli",))
    assert offenders("search.store", ("search.cli",)) == []


def test_archs_library_modules_import_no_search_only_its_command_does():
    assert offenders("archs", ("search", "studies"), allow=("archs.__main__",)) == []


def test_no_import_cycles_between_modules():
    found = imports()
    modules = set(found)
    graph = {m: {n for n in names if n in modules and n != m} for m, names in found.items()}
    # a package's __init__ importing its own modules to hand their names on is not a cycle
    graph = {m: {n for n in ns if not n.startswith(m + ".")} for m, ns in graph.items()}
    seen: dict[str, int] = {}
    cycles: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for target in sorted(graph[module]):
            if seen.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in seen:
                visit(target, [*path, target])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert cycles == []


def test_the_tests_mirror_the_layers_and_no_test_folder_shadows_a_package():
    """A folder under tests/ without __init__.py, named like a package, is a namespace package
    that wins over an editable install's package when tests/ is on the import path and the
    repository root is not (a script importing the test helpers): `import archs` would find
    the folder (seen 2026-11-28, before tests/archs was renamed tests/arch)."""
    packages = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")}
    assert {"archs", "search", "studies"} <= packages
    folders = {p.name for p in (REPO_ROOT / "tests").iterdir() if p.is_dir()} - {"__pycache__"}
    assert folders & packages == set()
    assert folders == {
        "arch", "engine", "store", "study", "runner", "workers", "console", "reports", "commands"
    }  # fmt: skip
    assert not list((REPO_ROOT / "tests").glob("*/__init__.py"))
