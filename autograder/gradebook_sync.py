"""An output folder and its gradebook, kept in agreement by the folder's one writer.

The folder's commit records (outputs.py) are what was graded; the gradebook is where nbgrader's
formgrader (and `autograder handgrade import`) keep hand grades. This brings each side what the
other knows:

* `catch_up`: results the gradebook does not hold yet (a killed batch, a database that was down)
  are recorded, never over another batch's result for a different submission;
* `record`: one committed result into the gradebook; the writer applies the hand-grades rule
  (handgrading.survives) in the same transaction and returns the hand grades kept, which are
  then put on the result and committed again when they change it;
* `bring_hand_grades`: hand grades given since (in formgrader, or imported) reach every output,
  and the gradebook's late penalty, which they change (late.py: one rule on the whole grade).

A gradebook that cannot be reached is remembered (`error`) instead of stopping the batch: the
folder keeps every result, and the next run records what is missing.
"""
from __future__ import annotations

from autograder import handgrading
from autograder.gradebook import GradebookUnavailable, GradebookWriter
from autograder.outputs import Committed, OutputFolder


class FolderGradebook:
    def __init__(self, folder: OutputFolder, writer: GradebookWriter, notebook_id: str, warn):
        self.folder, self.writer, self.notebook_id, self.warn = folder, writer, notebook_id, warn
        self.error: GradebookUnavailable | None = None
        self.conflicts: list[str] = []  # students whose result another batch wrote for another submission

    def _failed(self, error: GradebookUnavailable) -> None:
        if self.error is None:
            self.warn(f"warning: {error}; grading goes on, and the next run records what is missing")
        self.error = error

    def record(self, committed: Committed) -> Committed:
        """Write one committed result into the gradebook (unless the gradebook already failed);
        returns the student's committed record, committed again if the hand grades changed it."""
        if self.error is not None:
            return committed
        result = committed.result
        try:
            outcome = self.writer.record(result, self.notebook_id, committed.digest)
        except GradebookUnavailable as error:
            self._failed(error)
            return committed
        student = result.student_id
        if outcome.replaced_other_batch is not None:
            other = outcome.replaced_other_batch
            self.conflicts.append(student)
            self.warn(f"warning: the gradebook held {student}'s result for a different version of the submission, "
                      f"written by another batch ({other.batch.partition(' ')[2]}, {other.recorded_at}); "
                      "this batch's result replaced it")
        if outcome.cleared:
            self.warn(f"{student}: hand-given points cleared for {', '.join(outcome.cleared)} (the graded answer "
                      "changed); marked for hand grading again in the gradebook")
        changed = handgrading.apply(result, outcome.hand)
        if outcome.cleared:
            handgrading.note_cleared(result, outcome.cleared)
        if not (changed or outcome.cleared):
            return committed
        recommitted = self.folder.recommit(result)
        self._after_hand_grades(result, committed.digest, recommitted.digest)
        return recommitted

    def _after_hand_grades(self, result, old_digest: str, new_digest: str) -> None:
        """The gradebook remembers which record it holds (the one now committed) and, since hand
        grades count towards the late penalty (late.py), the penalty of the whole grade."""
        try:
            self.writer.set_record_digest(self.folder.assignment, result.student_id, old_digest, new_digest)
            if result.late:
                self.writer.set_late_penalty(result, self.notebook_id)
        except GradebookUnavailable as error:
            self._failed(error)

    def catch_up(self) -> None:
        """Record the committed results the gradebook does not hold yet; never write over another
        batch's result for a different submission."""
        if not self.folder.committed or self.error is not None:
            return
        try:
            held = self.writer.held(self.folder.assignment)
        except GradebookUnavailable as error:
            self._failed(error)
            return
        mine = self.writer.batch.partition(" ")[0]
        for student, committed in sorted(self.folder.committed.items()):
            have = held.get(student)
            if have is not None and have.record_digest == committed.digest:
                continue
            if have is not None and have.batch.partition(" ")[0] != mine:
                if have.content_hash != committed.result.content_hash:
                    self.conflicts.append(student)
                    self.warn(f"warning: the gradebook holds {student}'s result for a different version of the "
                              f"submission, written by another batch ({have.batch.partition(' ')[2]}, "
                              f"{have.recorded_at}); this folder's result was not written over it "
                              "(grade with --force to replace it)")
                continue
            self.record(committed)

    def bring_hand_grades(self, skip: set[str] = frozenset()) -> list[str]:
        """Put the gradebook's hand grades on every committed result (but those in `skip`, about to
        be graded again) and commit again the results they change; returns those students."""
        if not self.folder.committed or self.error is not None:
            return []
        try:
            given = self.writer.hand_grades(self.folder.assignment)
        except GradebookUnavailable as error:
            self._failed(error)
            return []
        changed = []
        for student, committed in sorted(self.folder.committed.items()):
            if student in skip:
                continue
            result = committed.result
            if handgrading.apply(result, given.get(student, {})):
                recommitted = self.folder.recommit(result)
                changed.append(student)
                self._after_hand_grades(result, committed.digest, recommitted.digest)
        return changed
