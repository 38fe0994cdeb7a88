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


def code_hash(paths: list[Path]) -> str:
    """16 hex digits over the syntax trees of `paths` (in order), docstrings removed."""
    digest = hashlib.sha256()
    for path in paths:
        tree = _drop_docstrings(ast.parse(Path(path).read_text(), filename=str(path)))
        digest.update(ast.dump(tree, include_attributes=False).encode())
    return digest.hexdigest()[:16]
