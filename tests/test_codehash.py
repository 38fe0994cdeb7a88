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
