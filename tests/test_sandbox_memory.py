"""The kernel's memory headroom and the explanation of a dead kernel, without a grading run.

The whole path (sandboxed kernel, real notebooks) is covered by the red-team batch and by one
memory-mistake variant in each assignment's graded batch; these check the pieces quickly.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import nbformat

from autograder.sandbox import memory, postmortem
from tests import helpers as H

GiB = 1024**3


def _cell(outputs=(), **nbgrader):
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output(**o) for o in outputs]
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def test_reserve_grows_with_the_limit_within_bounds():
    assert memory.reserve_for(512 * 1024**2) == memory.MIN_RESERVE
    assert memory.reserve_for(1536 * 1024**2) == 192 * 1024**2
    assert memory.reserve_for(64 * GiB) == memory.MAX_RESERVE


def test_exit_status_of_a_signal_from_popen_or_bubblewrap():
    assert postmortem.exit_signal(-11) == postmortem.exit_signal(139) == 11
    assert postmortem.exit_signal(1) is None and postmortem.exit_signal(None) is None


def test_death_after_earlier_cells_filled_the_memory():
    log = memory.cell_start_note(int(0.5 * GiB), int(3.75 * GiB)) + "\n" + \
        memory.cell_start_note(int(3.74 * GiB), int(3.75 * GiB)) + "\nFatal Python error: Segmentation fault\n"
    text = postmortem.explain_death(_cell(), 139, log, 4 * GiB)
    assert "used up before this cell started" in text and "earlier cells" in text and "segmentation fault" in text


def test_death_in_a_cell_that_ran_out_of_memory_itself():
    log = memory.cell_start_note(int(0.5 * GiB), int(3.75 * GiB)) + "\n"
    dying = _cell([{"output_type": "stream", "name": "stdout",
                    "text": "MemoryError: Unable to allocate 1.00 MiB for an array\n"}])
    text = postmortem.explain_death(dying, -6, log, 4 * GiB)
    assert text.startswith("this cell ran out of memory") and "aborted" in text, text


def test_memory_evidence_from_an_earlier_cell_does_not_count():
    log = "MemoryError\n" + memory.cell_start_note(int(0.5 * GiB), int(3.75 * GiB)) + \
        "\nFatal Python error: Segmentation fault\n"
    text = postmortem.explain_death(_cell(), -11, log, 4 * GiB)
    assert "memory" not in text and "segmentation fault" in text and "Fatal Python error" in text, text


def test_cell_label_names_graded_cells_and_shows_other_code():
    assert postmortem.cell_label(_cell(grade_id="add", solution=True), 4) == "cell 4 (answer cell 'add')"
    assert postmortem.cell_label(_cell(grade_id="test_add", grade=True), 5) == "cell 5 (test cell 'test_add')"
    assert postmortem.cell_label(_cell(), 6) == "cell 6 (x = 1)"
    guard = _cell()
    guard.metadata["autograder"] = {"role": "guard", "grade_id": "test_add"}
    assert postmortem.cell_label(guard, 7) == "cell 7 (the grader's set-up for test 'test_add')"


HEADROOM_IN_A_SHELL = """
import resource
from IPython.core.interactiveshell import InteractiveShell
from autograder.sandbox import memory

def in_use():
    return memory.address_space_in_use()

resource.setrlimit(resource.RLIMIT_AS, (in_use() + 1024**3, in_use() + 1024**3))
shell = InteractiveShell.instance()
headroom = memory.install(shell)
before = in_use()
result = shell.run_cell(MISTAKE)
assert isinstance(result.error_in_exec, MemoryError), result.error_in_exec
assert resource.getrlimit(resource.RLIMIT_AS)[0] == headroom.hard, "the kernel gets its whole limit back"
assert in_use() < before + 256 * 1024**2, f"the failed function's rows were not freed: {in_use() - before}"
later = shell.run_cell("import numpy\\nlen(numpy.ones(2**24))")
assert later.success and later.result == 2**24, later.error_in_exec
print("HEADROOM OK")
"""


def test_a_memory_mistake_in_a_shell_fails_its_cell_and_gives_the_memory_back():
    code = f"MISTAKE = {H.MEMORY_MISTAKE!r}\n" + textwrap.dedent(HEADROOM_IN_A_SHELL)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEADROOM OK" in run.stdout, run.stdout[-3000:] + run.stderr[-3000:]
