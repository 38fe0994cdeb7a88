"""The training code hash follows what the code does, not how it is written up."""

import textwrap

from attnlab.codehash import code_hash

SOURCE = '''
"""Module docstring."""


class Gate:
    """Class docstring."""

    def scale(self, x):
        """Method docstring."""
        return x * 2  # doubled
'''


def hash_of(tmp_path, source, name="module.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return code_hash([path])


def test_comments_docstrings_and_layout_do_not_count(tmp_path):
    reference = hash_of(tmp_path, SOURCE)
    reworded = (
        SOURCE.replace("Class docstring.", "Another text.")
        .replace("# doubled", "# times two")
        .replace('"""Module docstring."""', "# no docstring")
        .replace("return x * 2", "return (\n            x * 2\n        )")
    )
    assert hash_of(tmp_path, reworded) == reference
    no_method_docstring = SOURCE.replace('        """Method docstring."""\n', "")
    assert hash_of(tmp_path, no_method_docstring) == reference


def test_code_changes_count(tmp_path):
    reference = hash_of(tmp_path, SOURCE)
    assert hash_of(tmp_path, SOURCE.replace("x * 2", "x * 3")) != reference
    assert hash_of(tmp_path, SOURCE.replace("def scale", "def double")) != reference
    # A string that is not the first statement is code, not a docstring.
    extra = SOURCE.replace("return x * 2", '"""kept"""\n        return x * 2')
    assert hash_of(tmp_path, extra) != reference


def test_module_order_counts(tmp_path):
    first = tmp_path / "a.py"
    second = tmp_path / "b.py"
    first.write_text("A = 1\n")
    second.write_text("B = 2\n")
    assert code_hash([first, second]) != code_hash([second, first])


def test_a_subpackage_counts_every_module_it_holds(tmp_path):
    from attnlab.codehash import module_files

    (tmp_path / "blocks").mkdir()
    for name in ("b.py", "a.py"):
        (tmp_path / "blocks" / name).write_text("X = 1\n")
    (tmp_path / "models.py").write_text("Y = 2\n")
    files = module_files(tmp_path, ["models", "blocks"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "models.py",
        "blocks/a.py",
        "blocks/b.py",
    ]
    reference = code_hash(files)
    (tmp_path / "blocks" / "b.py").write_text("X = 3\n")
    assert code_hash(module_files(tmp_path, ["models", "blocks"])) != reference


def test_the_training_hash_covers_every_module_a_training_imports(repo_root):
    from attnlab.codehash import imported_files

    package = repo_root / "src" / "attnlab"
    names = {f.relative_to(package).as_posix() for f in imported_files(package, ["train"])}
    blocks = {f"blocks/{f.name}" for f in (package / "blocks").glob("*.py")}
    assert names >= blocks | {"layers.py", "models.py", "registry.py", "cost.py"}
    assert "train.py" in names and "tables.py" not in names


def test_imports_are_followed_through_every_form(tmp_path):
    from attnlab.codehash import imported_files

    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("from pkg import b\n\ndef f():\n    import pkg.c\n")
    (package / "b.py").write_text("from pkg.sub.d import X\n")
    (package / "c.py").write_text("import os\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "d.py").write_text("X = 1\n")
    (package / "unused.py").write_text("Y = 2\n")
    (package / "__init__.py").write_text("")
    found = [f.relative_to(package).as_posix() for f in imported_files(package, ["a"])]
    assert found == ["__init__.py", "a.py", "b.py", "c.py", "sub/__init__.py", "sub/d.py"]
