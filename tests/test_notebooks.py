"""Executes every notebook in colab/ top to bottom in its quick setting (marker
``notebook``, outside the default run: ``python -m pytest -m notebook``, as CI does).

Each notebook runs in a process of its own (``tests/run_notebook.py``) under a hard
deadline: a hang anywhere (a cell, the kernel, the notebook client) ends in a report of
where each process was (their Python stacks, the tails of the training logs the notebook
wrote) rather than in a stalled suite. A notebook that overruns is run once more, after a
warning with that report; the second overrun fails the test.
"""

import glob
import os
import pathlib
import signal
import subprocess
import sys
import time
import warnings

import nbformat
import pytest

from tests.conftest import repo_root

NOTEBOOKS = sorted((pathlib.Path(repo_root()) / "colab").glob("*.ipynb"))
CELL_TIMEOUT_S = 300  # a quick-setting notebook runs in <= 3 minutes on a 2-core CPU
NOTEBOOK_TIMEOUT_S = 600


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


def _kill(pid: int, *, group: bool = False) -> None:
    try:
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read(path: str, chars: int = 30000) -> str:
    if not os.path.exists(path):
        return "(none)"
    with open(path, errors="replace") as f:
        return f.read()[-chars:] or "(empty)"


def _hang_report(diagnostics: pathlib.Path, since: float) -> str:
    logs = [p for p in glob.glob(os.path.join(repo_root(), "runs", "notebooks", "**", "*.log"),
                                 recursive=True) if os.path.getmtime(p) >= since]
    parts = [f"kernel stacks:\n{_read(str(diagnostics / 'kernel_stacks.txt'))}",
             f"notebook client stacks:\n{_read(str(diagnostics / 'client_stacks.txt'))}",
             f"output:\n{_read(str(diagnostics / 'output.txt'))}"]
    parts += [f"{p}:\n{_read(p, 2000)}" for p in sorted(logs)]
    return "\n\n".join(parts)


def _execute(path: pathlib.Path, diagnostics: pathlib.Path, *,
             timeout_s: float = NOTEBOOK_TIMEOUT_S) -> tuple[int | None, str]:
    """Runs the notebook; (exit status, output), or (None, the hang report) when it has
    not finished after `timeout_s` (its processes then killed)."""
    diagnostics.mkdir(parents=True)
    stacks_after_s = timeout_s - min(20.0, timeout_s / 4)
    since = time.time()
    with open(diagnostics / "output.txt", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.run_notebook", str(path), str(diagnostics),
             str(CELL_TIMEOUT_S), str(stacks_after_s)],
            cwd=repo_root(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            report = _hang_report(diagnostics, since)
            _kill(proc.pid, group=True)
            if (diagnostics / "kernel.pid").exists():  # the kernel has a session of its own
                _kill(int((diagnostics / "kernel.pid").read_text()))  # its workers die with it
            proc.wait()
            return None, report
    return proc.returncode, _read(str(diagnostics / "output.txt"), 20000)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        f"{path.name} is stored with outputs; clear them (outputs would go stale)")
    assert "QUICK = True" in "".join(cell.source for cell in nb.cells), (
        f"{path.name} must be stored in its quick setting")
    status, output = _execute(path, tmp_path / "first")
    if status is None:
        warnings.warn(f"{path.name} did not finish within {NOTEBOOK_TIMEOUT_S} s; running it "
                      f"once more. Where it was:\n{output}", stacklevel=1)
        status, output = _execute(path, tmp_path / "second")
    assert status is not None, (
        f"{path.name} did not finish within {NOTEBOOK_TIMEOUT_S} s twice. Where it was:\n"
        f"{output}")
    assert status == 0, f"{path.name} failed:\n{output}"


@pytest.mark.notebook
def test_a_notebook_that_hangs_is_reported_and_killed(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\n\ndef stuck():\n    time.sleep(600)\n\nstuck()")])
    path = tmp_path / "hangs.ipynb"
    nbformat.write(nb, path)
    t0 = time.perf_counter()
    status, report = _execute(path, tmp_path / "run", timeout_s=20)
    assert status is None and time.perf_counter() - t0 < 40
    kernel = report.split("notebook client stacks:")[0]
    assert "in stuck" in kernel, report  # the kernel's stack, at the hanging function
    pid = int((tmp_path / "run" / "kernel.pid").read_text())
    deadline = time.time() + 10
    while time.time() < deadline and os.path.exists(f"/proc/{pid}") and (
            "zombie" not in open(f"/proc/{pid}/status").read()):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read()
