"""Executes every notebook in colab/ top to bottom in its quick setting (marker
``notebook``, outside the default run: ``python -m pytest -m notebook``, as CI does)."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import repo_root

NOTEBOOKS = sorted((pathlib.Path(repo_root()) / "colab").glob("*.ipynb"))
CELL_TIMEOUT_S = 300  # a quick-setting notebook runs in <= 3 minutes on a 2-core CPU


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        f"{path.name} is stored with outputs; clear them (outputs would go stale)")
    assert "QUICK = True" in "".join(cell.source for cell in nb.cells), (
        f"{path.name} must be stored in its quick setting")
    NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
