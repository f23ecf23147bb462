"""The course's autograder: release assignments, grade submissions in a sandbox, report results.

Modules, one job each: `layout` (where things are), `cells` (nbgrader cell metadata), `release`
(source -> release), `nbgrader_course` (what an instructor's own nbgrader course brings: its config,
autotests, kernels, which authoring rules apply), `collect` (find submissions), `assemble` (rebuild a
submission around the grader's own cells), `execute` (run it headless in a sandboxed kernel),
`receipt` (how a test proves it ran: guard, trail, signed lines, both sides), `score` (receipts ->
results), `gradebook` (nbgrader's database), `exports` (grades.csv, Gradescope JSON), `feedback`
(HTML; maths through `mathml`), `late` (due dates, submission times, the late policy), `report`
(the class report), `grade` (a batch: reuse decisions, one writer) with `plan` (what a batch computes
once per assignment), `pipeline` (one submission: read, assemble, execute, score, feedback), `jobs`
(the runners: this process, a local pool, Dask) and `prestart` (the kernel started ahead),
`sandbox.config` (the kernel's one configuration, CLI defaults included), `check` (a student's local run),
`usage` (argument checks made before anything heavy is imported), `handgrading` with
`handgrade_batch`, `handgrade_files` and `formgrader` (points given by hand), `cli`.
"""
__version__ = "0.1.0"
