"""Executes one notebook top to bottom in a kernel of its own, for tests/test_notebooks.py:

  python -m tests.run_notebook NOTEBOOK.ipynb DIAGNOSTICS_DIR CELL_TIMEOUT_S STACKS_AFTER_S

Exits 0 when every cell ran. Into DIAGNOSTICS_DIR it writes ``kernel.pid`` and, should
either process still be running after STACKS_AFTER_S, every thread's Python stack of the
kernel (``kernel_stacks.txt``) and of this process (``client_stacks.txt``), so that a
notebook that hangs is reported with where it hangs.
"""

import faulthandler
import os
import sys

import nbformat
from nbclient import NotebookClient


def main(path: str, diagnostics: str, cell_timeout_s: float, stacks_after_s: float) -> None:
    nb = nbformat.read(path, as_version=4)
    pid_file = os.path.join(diagnostics, "kernel.pid")
    kernel_stacks = os.path.join(diagnostics, "kernel_stacks.txt")
    watch = nbformat.v4.new_code_cell(
        "import faulthandler as _faulthandler, os as _os\n"
        f"open({pid_file!r}, 'w').write(str(_os.getpid()))\n"
        f"_stacks = open({kernel_stacks!r}, 'w')\n"
        f"_faulthandler.dump_traceback_later({stacks_after_s}, file=_stacks)")
    nb.cells.insert(0, watch)  # in memory only: the stored notebook is not changed
    with open(os.path.join(diagnostics, "client_stacks.txt"), "w") as stacks:
        faulthandler.dump_traceback_later(stacks_after_s, file=stacks)
        NotebookClient(nb, timeout=cell_timeout_s, kernel_name="python3",
                       resources={"metadata": {"path": os.path.dirname(path)}}).execute()
        faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
