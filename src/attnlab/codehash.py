"""A hash of what Python modules do, blind to comments, docstrings and layout.

Training jobs take it as a parameter so that a change to the model code reruns them,
while a reworded comment or a reformatted line does not retrain hours of models.
"""

import ast
import hashlib
from pathlib import Path


def _drop_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def module_files(package: Path, modules) -> list[Path]:
    """The files of `modules` in `package`: `name.py`, or every module of the subpackage
    `name/` in name order."""
    files = []
    for module in modules:
        folder = Path(package) / module
        files += sorted(folder.glob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
    return files


def _module_file(package: Path, dotted: str) -> Path | None:
    """`attnlab.a.b` -> package/a/b.py (or a/b/__init__.py); None if not in the package."""
    base = Path(package).joinpath(*dotted.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, name: str) -> set[str]:
    """The dotted names of the package modules `path` imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == name}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == name:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def imported_files(package: Path, modules) -> list[Path]:
    """The files of `modules` and of every package module they import, transitively
    (imports inside functions too), in path order: what running them can execute."""
    package = Path(package)
    name = package.name
    pending = [f"{name}.{module}" for module in modules]
    seen: dict[str, Path] = {}
    while pending:
        dotted = pending.pop()
        path = _module_file(package, dotted)
        if path is None or dotted in seen:
            continue
        seen[dotted] = path
        parent = dotted.rpartition(".")[0]  # importing a.b.c runs a/__init__ and a/b/__init__
        pending += sorted(_imports(path, name)) + [parent] * bool(parent)
    return sorted(set(seen.values()))


def code_hash(paths: list[Path]) -> str:
    """16 hex digits over the syntax trees of `paths` (in order), docstrings removed."""
    digest = hashlib.sha256()
    for path in paths:
        tree = _drop_docstrings(ast.parse(Path(path).read_text(), filename=str(path)))
        digest.update(ast.dump(tree, include_attributes=False).encode())
    return digest.hexdigest()[:16]


def source_hash(*modules: str) -> str:
    """`code_hash` of attnlab's `modules` and every module they import: the code a job
    runs (a workflow param, so that changing it reruns the job)."""
    return code_hash(imported_files(Path(__file__).resolve().parent, modules))
