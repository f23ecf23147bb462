"""The receipt protocol, both sides in this process: lines written as the kernel's sentinel writes
them, read and checked as the grader reads them (autograder/receipt.py)."""
from __future__ import annotations

import ast
import hashlib
import hmac
import os

import pytest

from autograder import receipt
from autograder.sandbox.digest import code_digest, statement_digests

KEY = bytes(range(32))
TEST = "got = add(2, 3)\nassert got == 5, 'add(2, 3) should be 5'\nassert add(-1, 1) == 0"


def kernel_digests(text: str) -> list[str]:
    """What the sentinel digests while IPython runs `text` (one code object per statement)."""
    return statement_digests(text)


@pytest.fixture
def receipt_file(tmp_path):
    path = tmp_path / "receipts"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    yield fd, path
    os.close(fd)


def written(path) -> list[str]:
    return path.read_text().splitlines()


def test_a_receipt_written_in_the_kernel_proves_the_test_to_the_grader(receipt_file):
    fd, path = receipt_file
    write_receipt, write_note = receipt.make_writer(KEY, fd)
    body = receipt.with_trail(TEST, "test_add")
    write_receipt("test_add", kernel_digests(body))
    write_note("test_mean", "changed-during-test: math.isclose")
    write_note(receipt.NO_CELL, "sentinel-error TypeError at on_exec:3")
    lines = written(path)
    assert [line.split(" ")[0] for line in lines] == [receipt.RECEIPT_TAG, receipt.NOTE_TAG, receipt.NOTE_TAG]

    found = receipt.read(lines, KEY)
    assert found.proves("test_add", receipt.expected_sequence(body))
    assert found.forged == []
    assert found.notes == {"test_mean": ["changed-during-test: math.isclose"],
                           "-": ["sentinel-error TypeError at on_exec:3"]}
    assert receipt.note_lines(lines) == lines[1:]
    assert not found.proves("test_mean", receipt.expected_sequence(body)), "a note proves nothing"
    assert not found.proves("test_add", None)


def test_the_kernel_signs_with_the_standard_librarys_hmac(receipt_file):
    fd, path = receipt_file
    write_receipt, _ = receipt.make_writer(KEY, fd)
    write_receipt("test_add", ["a", "b"])
    _, cell, sequence, signed = written(path)[0].split(" ")
    assert sequence == hashlib.sha256(b"a\nb").hexdigest() == receipt.sequence_digest(["a", "b"])
    assert signed == hmac.new(KEY, b"test_add|" + sequence.encode(), hashlib.sha256).hexdigest()


def test_the_writer_keeps_what_it_was_built_with(receipt_file, monkeypatch):
    """Student code that replaces the hashing functions, the builtins or this module's own
    functions after the sentinel started changes nothing in what it writes."""
    fd, path = receipt_file
    write_receipt, write_note = receipt.make_writer(KEY, fd)
    monkeypatch.setattr(hashlib, "sha256", lambda *a: pytest.fail("sha256 looked up again"))
    monkeypatch.setattr(hmac, "new", lambda *a, **k: pytest.fail("hmac.new looked up again"))
    monkeypatch.setattr(receipt, "signed_message", lambda *a: b"forged")
    monkeypatch.setattr(receipt, "RECEIPT_TAG", "X")
    monkeypatch.setattr("builtins.len", lambda x: 0)
    write_receipt("test_add", ["a"])
    monkeypatch.undo()
    assert receipt.read(written(path), KEY).proves("test_add", receipt.sequence_digest(["a"]))


def test_tampered_forged_moved_and_cut_lines_prove_nothing(receipt_file):
    fd, path = receipt_file
    write_receipt, _ = receipt.make_writer(KEY, fd)
    body = receipt.with_trail(TEST, "test_add")
    expected = receipt.expected_sequence(body)
    write_receipt("test_add", kernel_digests(body))
    (good,) = written(path)
    tag, cell, sequence, signed = good.split(" ")
    flipped = "0" if sequence[0] != "0" else "1"
    lines = {
        "sequence edited": f"{tag} {cell} {flipped}{sequence[1:]} {signed}",
        "signature edited": f"{tag} {cell} {sequence} {signed[:-1]}{'0' if signed[-1] != '0' else '1'}",
        "made-up signature": f"{tag} {cell} {sequence} {'ab' * 32}",
        "other key": f"{tag} {cell} {sequence} {receipt.signature(b'another key', cell, sequence)}",
        "non-ASCII signature": f"{tag} {cell} {sequence} {'é' * 64}",
        "moved to another cell": f"{tag} test_mean {sequence} {signed}",
        "fields swapped": f"{tag} {sequence} {cell} {signed}",
    }
    for what, line in lines.items():
        found = receipt.read([line], KEY)
        assert not found.proves("test_add", expected) and found.verified == {}, what
        assert found.forged, f"{what}: flagged as forged"
    for what, line in {"cut short": f"{tag} {cell} {sequence}", "one field more": good + " x",
                       "tag missing": f"{cell} {sequence} {signed}", "no line": None}.items():
        found = receipt.read([line] if line else [], KEY)
        assert not found.proves("test_add", expected) and found.forged == [], what
    assert receipt.read(list(lines.values()) + [good], KEY).proves("test_add", expected), \
        "a forged line does not hide a genuine receipt"


def test_statements_run_in_another_order_or_rewritten_prove_nothing(receipt_file):
    fd, path = receipt_file
    write_receipt, _ = receipt.make_writer(KEY, fd)
    body = receipt.with_trail(TEST, "test_add")
    digests = kernel_digests(body)
    write_receipt("test_add", [digests[1], digests[0]] + digests[2:])  # reordered
    write_receipt("test_add", digests[1:])  # the first statement never ran
    write_receipt("test_add", kernel_digests(receipt.with_trail("got = add(2, 3)\nassert True", "test_add")))
    found = receipt.read(written(path), KEY)
    assert len(found.verified["test_add"]) == 3 and found.forged == []  # genuine lines, signed in the kernel
    assert not found.proves("test_add", receipt.expected_sequence(body))


def test_the_guard_cell_arms_the_sentinel_for_its_test():
    aliases = (("np", "numpy", None), ("isclose", "math", "isclose"))
    guard = receipt.guard_source("test_add", aliases)
    call = ast.parse(guard).body[0].value
    assert ast.unparse(call.func) == "__import__('sys').audit"
    event, cell, trail, got_aliases = (ast.literal_eval(arg) for arg in call.args)
    assert (event, cell, got_aliases) == (receipt.ENTER_EVENT, "test_add", aliases)
    body = receipt.with_trail(TEST + "\n\n", "test_add")
    last = ast.parse(body).body[-1]
    assert trail == code_digest(compile(ast.Module([last], []), "<cell>", "exec")), \
        "the guard names the digest of the statement that ends the test"
    assert receipt.without_trail(body, "test_add") == TEST
    assert receipt.expected_sequence(body) != receipt.expected_sequence(receipt.with_trail(TEST, "test_mean"))


def test_the_expected_sequence_follows_ipythons_transforms():
    """A test using IPython syntax runs as what IPython makes of it, and is digested as such."""
    body = receipt.with_trail("%time x = 1\nassert x == 1", "test_x")
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(body)
    assert "%time" not in python
    assert receipt.expected_sequence(body) == receipt.sequence_digest(statement_digests(python))
