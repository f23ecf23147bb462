"""The receipt protocol: how a test cell proves to the grader that it ran to its end.

A test part earns its points only on a *receipt*: a line the sandboxed kernel writes, signed
with a key only the grader and the kernel's sentinel hold. This module is the whole protocol,
for both sides of it:

Grader, assembling the notebook (assemble.py)
    before each test cell a guard cell, ``guard_source(grade_id, aliases)``: it raises the audit
    event ``ENTER_EVENT`` with the cell's id, the digest of its trail statement and the module
    aliases the test uses, which arms the sentinel for that test;
    at the end of each test cell its *trail statement*, ``with_trail(test_text, grade_id)``:
    running it proves every statement before it ran without raising;
    the receipt's expected *sequence digest*, ``expected_sequence(test_text_with_trail)``.

Kernel, while the test runs (sandbox/sentinel.py)
    digests each top-level statement of the test as IPython runs it (sandbox/digest.py); when
    the trail statement runs and nothing the test's verdict rests on changed, writes with
    ``make_writer(key, fd)``::

        R <grade_id> <sequence digest> <HMAC-SHA256(key, "<grade_id>|<sequence digest>")>

    where the sequence digest is ``sequence_digest(statement digests, in the order they ran)``;
    otherwise, and for anything odd, a note, never worth points::

        N <grade_id, or - when there is none> <reason>

    and for what a test measured (autograder/measure.py), once the statement that reported it
    completed, with ``make_measure_writer(key, fd)``::

        M <grade_id> <statement index> <sequence digest so far> <name> <value or -> <target or -> <HMAC>

    where the signature covers every field before it.

Grader, scoring (score.py)
    ``read(lines, key)`` -> ``Receipts``: per cell, the sequence digests of the receipts whose
    signature is valid; the cells of receipts whose signature is not (forged or tampered lines);
    the notes; the measurements whose signature is valid. A part passes only when
    ``Receipts.proves(grade_id, expected)``; a measurement counts only when
    ``Receipts.measurements(grade_id, statements, declared)`` finds it was made by a statement of
    the grader's own copy of the test that declares it. A line that does not have the receipt's
    four fields is no receipt.

Everything a receipt line proves is in its signed message: the cell id and the sequence digest.
A receipt moved to another cell, a line edited or made up, statements that ran in another order
or a test that stopped before its trail statement all fail ``proves``. Student code can write to
the receipt file's descriptor (it is inherited by the kernel) but cannot sign.

This module is imported inside the sandboxed kernel before any student code runs: it imports only
the standard library at module level (IPython, needed to predict how IPython transforms a test,
is imported by the one grader-side function that uses it).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from autograder.sandbox.digest import statement_digests

ENTER_EVENT = "autograder.enter"  # raised by a guard cell: (grade_id, trail digest, aliases)
RECEIPT_TAG = "R"  # R <grade_id> <sequence digest> <signature>
NOTE_TAG = "N"  # N <grade_id or -> <reason>
MEASURE_TAG = "M"  # M <grade_id> <index> <sequence so far> <name> <value> <target or -> <signature>
NO_CELL = "-"  # the cell field of a note that concerns no test cell
TRAIL_NAME = "__autograder_done__"  # the name the trail statement binds


# --- the grader's cells ---------------------------------------------------------------------------
def trail_statement(grade_id: str) -> str:
    """The statement appended to a test cell; the sentinel writes the receipt when it runs."""
    return f"{TRAIL_NAME} = {grade_id!r}"


def with_trail(test_text: str, grade_id: str) -> str:
    """A test cell's text as the grader runs it: the test, then its trail statement."""
    return test_text.rstrip("\n") + "\n" + trail_statement(grade_id)


def without_trail(text: str, grade_id: str) -> str:
    """A test cell's text without its trail statement (for feedback and hand grading)."""
    trail = trail_statement(grade_id)
    return text.replace("\n" + trail, "").replace(trail, "")


def guard_source(grade_id: str, aliases: tuple) -> str:
    """The guard cell run before a test cell: it arms the sentinel for that test.

    `aliases`: (name, module, attribute or None) triples the test relies on (see
    assemble.import_aliases); the test's namespace binds them to the pristine modules.
    """
    trail_digest = statement_digests(trail_statement(grade_id))[0]
    return f"__import__('sys').audit({ENTER_EVENT!r}, {grade_id!r}, {trail_digest!r}, {aliases!r})"


# --- digests and signatures (both sides) ----------------------------------------------------------
def _make_sequence_digest(sha256):
    def sequence_digest(digests: list) -> str:
        """One digest for the statement digests of a test, in the order they ran."""
        return sha256("\n".join(digests).encode()).hexdigest()

    return sequence_digest


sequence_digest = _make_sequence_digest(hashlib.sha256)


def signed_message(grade_id: str, sequence: str) -> bytes:
    """What a receipt's signature covers."""
    return f"{grade_id}|{sequence}".encode()


def signature(key: bytes, grade_id: str, sequence: str) -> str:
    """HMAC-SHA256 of a receipt's message under `key`, as hex (the grader's computation)."""
    return hmac.new(key, signed_message(grade_id, sequence), hashlib.sha256).hexdigest()


def as_ipython_runs_it(test_text_with_trail: str) -> str:
    """A cell's text as IPython compiles it (magics and other syntax turned into Python)."""
    from IPython.core.inputtransformer2 import TransformerManager  # grader side only

    return TransformerManager().transform_cell(test_text_with_trail)


def expected_statements(test_text_with_trail: str) -> list[str]:
    """The digests of the statements the kernel runs for this test cell, in order.

    The kernel runs what IPython makes of the cell's text, one code object per top-level
    statement, so the grader does the same.
    """
    return statement_digests(as_ipython_runs_it(test_text_with_trail))


def expected_sequence(test_text_with_trail: str) -> str:
    """The sequence digest a valid receipt for this test cell must carry."""
    return sequence_digest(expected_statements(test_text_with_trail))


def measure_message(grade_id: str, index: str, sequence: str, name: str, value: str, target: str) -> bytes:
    """What a measurement line's signature covers (every field, in order)."""
    return "|".join((MEASURE_TAG, grade_id, index, sequence, name, value, target)).encode()


# --- the kernel's side: writing lines -------------------------------------------------------------
def make_writer(key: bytes, fd: int):
    """Return `(write_receipt, write_note)`, writing lines to the descriptor `fd`.

    ``write_receipt(grade_id, statement_digests)`` signs and writes a receipt;
    ``write_note(grade_id, reason)`` writes a note.

    Called by the sentinel before any student code runs. Both functions use only what is bound
    here: C functions of the interpreter, and the key, which lives in this closure only. Student
    code that later replaces a builtin, an attribute of `hashlib`, `hmac` or this module changes
    nothing in what they compute or where they write.

    The signature is the standard library's HMAC, through the C function its `hmac.digest` uses
    (`_hashlib.hmac_digest`), not `hmac.new`: `hmac.new` is Python code that looks up module
    globals each time it runs, so code able to replace one of them would be handed the key.
    `test_receipt.py` checks that both give the same signature.
    """
    import _hashlib
    import posix

    hmac_digest = _hashlib.hmac_digest
    write = posix.write
    digest_of_sequence = _make_sequence_digest(_hashlib.openssl_sha256)
    message_of = signed_message  # uses no global name: safe to call later
    receipt_tag, note_tag = RECEIPT_TAG, NOTE_TAG

    def write_line(line: str) -> None:
        data = line.encode("utf-8", "replace") + b"\n"
        while data:
            data = data[write(fd, data):]

    def write_receipt(grade_id: str, statement_digests: list) -> None:
        sequence = digest_of_sequence(statement_digests)
        signed = hmac_digest(key, message_of(grade_id, sequence), "sha256").hex()
        write_line(f"{receipt_tag} {grade_id} {sequence} {signed}")

    def write_note(grade_id: str, reason: str) -> None:
        write_line(f"{note_tag} {grade_id} {reason}")

    return write_receipt, write_note


def make_measure_writer(key: bytes, fd: int):
    """Return ``write_measure(grade_id, index, statement_digests, name, value, target)``, which
    signs and writes a measurement line to `fd` (the same care as `make_writer`: only what is
    bound here). `value` and `target` are already text (the sentinel renders them); `index` is
    the position of the statement that reported it among the test's statements."""
    import _hashlib
    import posix

    hmac_digest = _hashlib.hmac_digest
    write = posix.write
    digest_of_sequence = _make_sequence_digest(_hashlib.openssl_sha256)
    tag = MEASURE_TAG
    join, line_of, encode = "|".join, " ".join, str.encode
    int_repr = int.__repr__

    def write_measure(grade_id: str, index: int, statement_digests: list, name: str, value: str, target: str) -> None:
        sequence = digest_of_sequence(statement_digests)
        position = int_repr(index)
        message = encode(join((tag, grade_id, position, sequence, name, value, target)))
        signed = hmac_digest(key, message, "sha256").hex()
        data = encode(line_of((tag, grade_id, position, sequence, name, value, target, signed))) + b"\n"
        while data:
            data = data[write(fd, data):]

    return write_measure


# --- the grader's side: reading lines -------------------------------------------------------------
@dataclass
class Receipts:
    """What the receipt lines of one run prove."""

    verified: dict[str, list[str]] = field(default_factory=dict)  # grade id -> sequence digests, valid signatures
    forged: list[str] = field(default_factory=list)  # grade ids of receipts with an invalid signature, sorted
    notes: dict[str, list[str]] = field(default_factory=dict)  # grade id (or NO_CELL) -> the sentinel's notes
    # grade id -> (statement index, sequence digest so far, name, value or None, target or None), valid signatures
    measured: dict[str, list[tuple[int, str, str, float | None, float | None]]] = field(default_factory=dict)

    def proves(self, grade_id: str, expected: str | None) -> bool:
        """Whether the grader's own test code for `grade_id` ran to its end."""
        return expected is not None and expected in self.verified.get(grade_id, [])

    def measurements(self, grade_id: str, statements: list[str], declared: dict) -> dict[str, tuple]:
        """{name: (value, target)} that the grader's own test code for `grade_id` measured.

        `statements`: the digests of the test's statements (expected_statements); `declared`:
        statement index -> the Declaration of its report() call (measure.declarations). A
        measurement counts only when the statements that ran up to it are the first statements of
        the grader's test and the one that reported it declares that name; later ones win.
        """
        found: dict[str, tuple] = {}
        for index, sequence, name, value, target in self.measured.get(grade_id, []):
            declaration = declared.get(index)
            if declaration is None or declaration.name != name or index >= len(statements):
                continue
            if sequence != sequence_digest(statements[:index + 1]):
                continue
            found[name] = (value, target)
        return found


def read(lines: list[str], key: bytes) -> Receipts:
    """Check every receipt line of a run against its key; collect the notes."""
    found = Receipts()
    forged = set()
    for line in lines:
        fields = line.split(" ")
        if len(fields) == 4 and fields[0] == RECEIPT_TAG:
            _, grade_id, sequence, signed = fields
            # as bytes: compare_digest refuses str holding non-ASCII characters, which anyone
            # able to write to the receipt descriptor could put there
            if hmac.compare_digest(signature(key, grade_id, sequence).encode(), signed.encode("utf-8", "replace")):
                found.verified.setdefault(grade_id, []).append(sequence)
            else:
                forged.add(grade_id)
        elif len(fields) >= 3 and fields[0] == NOTE_TAG:
            found.notes.setdefault(fields[1], []).append(" ".join(fields[2:]))
        elif len(fields) == 8 and fields[0] == MEASURE_TAG:
            _, grade_id, index, sequence, name, value, target, signed = fields
            expected = hmac.new(key, measure_message(grade_id, index, sequence, name, value, target),
                                hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected.encode(), signed.encode("utf-8", "replace")):
                forged.add(grade_id)
                continue
            measurement = _parse_measurement(index, sequence, name, value, target)
            if measurement is not None:
                found.measured.setdefault(grade_id, []).append(measurement)
    found.forged = sorted(forged)
    return found


def _parse_measurement(index: str, sequence: str, name: str, value: str, target: str):
    """A signed measurement's fields as values, or None when they are not what the sentinel writes."""
    import math

    try:
        position = int(index)
        number = None if value == "-" else float(value)
        bound = None if target == "-" else float(target)
    except ValueError:
        return None
    if position < 0 or any(x is not None and not math.isfinite(x) for x in (number, bound)):
        return None
    return position, sequence, name, number, bound


def note_lines(lines: list[str]) -> list[str]:
    """The sentinel's notes among a run's lines, as written (diagnostics for instructors)."""
    return [line for line in lines if line.startswith(NOTE_TAG + " ")]
