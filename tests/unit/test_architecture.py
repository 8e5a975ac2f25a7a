"""The package's shape: no module imports another that imports it back (directly or through others), and
the layers named in the README hold: the chain knows no system, market or ML."""
import ast
from pathlib import Path

import dcai_lab

PACKAGE = Path(dcai_lab.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere (inside functions too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                # ``from pkg import sub`` imports the submodule; ``from pkg import name`` runs pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def reachable(graph, start) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "dcai_lab.compiler" in graph["dcai_lab.cli"]  # imported inside a command
    assert "dcai_lab.chain" in graph["dcai_lab.experiments.run"]


def test_no_module_imports_another_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_chain_imports_no_system_market_or_models():
    """``chain.deploy_system``/``deploy_market`` are conveniences that hand over to the mechanism spec
    (``dcai_lab.incentives``, imported when called); the chain itself names no upper floor."""
    graph = import_graph()
    assert graph["dcai_lab.chain"] & {"dcai_lab.system", "dcai_lab.market", "dcai_lab.models"} == set()
    below_transports = reachable(graph, "dcai_lab.transports")
    assert not any(m.startswith(("dcai_lab.system", "dcai_lab.market", "dcai_lab.models", "dcai_lab.incentives",
                                 "dcai_lab.experiments")) for m in below_transports)


def test_system_and_market_do_not_import_the_chain():
    graph = import_graph()
    for upper in ("dcai_lab.system", "dcai_lab.market", "dcai_lab.deployed"):
        assert "dcai_lab.chain" not in reachable(graph, upper), upper


def test_no_private_web3_modules():
    for path in PACKAGE.rglob("*.py"):
        assert "web3._utils" not in path.read_text(), path


def test_only_settings_reads_the_environment():
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("settings.py", "__init__.py"):
            continue
        assert "os.environ" not in path.read_text(), f"{path.name} reads the environment: use dcai_lab.settings"


def test_no_code_compares_mechanism_names():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "contract_name ==" not in text and "contract_name !=" not in text, path
        assert 'fork == "twin"' not in text and 'fork != "twin"' not in text, path
