"""Every docstring example in adam/ runs (admiral's rule: each derivation has a working example)."""
import doctest
import importlib
import pkgutil

import pytest

import trialforge.adam as adam_pkg

MODULES = sorted(m.name for m in pkgutil.walk_packages(adam_pkg.__path__, "trialforge.adam.") if m.name != "trialforge.adam.command")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
