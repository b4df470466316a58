"""Every docstring example in jaxprior runs, as a doctest (as optax's do)."""

import doctest
import importlib
import pkgutil

import pytest

import jaxprior


def _modules():
    return sorted(m.name for m in pkgutil.walk_packages(jaxprior.__path__, "jaxprior."))


def test_the_examples_are_found():
    with_examples = [m for m in _modules()
                     if doctest.DocTestFinder().find(importlib.import_module(m))
                     and any(t.examples for t in
                             doctest.DocTestFinder().find(importlib.import_module(m)))]
    assert len(with_examples) >= 12, with_examples


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             raise_on_error=False, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
