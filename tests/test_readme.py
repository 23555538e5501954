"""The README's Python examples run as doctests (so they cannot drift from the code)."""

import doctest

from conftest import REPO


def test_readme_examples_run() -> None:
    failures, tried = doctest.testfile(str(REPO / "README.md"), module_relative=False,
                                       optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried >= 8 and failures == 0
