"""The runners: where grading work runs, in this process, in a local pool of worker processes, or on Dask.

`run_jobs` picks the runner (`runner_for`) and yields (submission, result) as each finishes,
wherever it ran. The assignment's plan travels once per worker, not once per job: a pool worker
receives it when it starts (`ProcessPoolExecutor`'s initializer), a Dask cluster as one task.
(The kernel a worker starts ahead for its next job is prestart.py's.) Work lost with a worker is
given to a live one:

* local pool: when a worker process dies, Python's pool fails every job it still holds, on the
  healthy workers too (`BrokenProcessPool`). The jobs that were in flight are resubmitted to a new
  pool; at most `workers` jobs are in flight at once, so a job counts a worker's death only when it
  was running. A submission in flight when workers died `MAX_WORKER_DEATHS` times gets a
  `grader_error` row instead of being tried forever.
* Dask: the assignment's context is sent once as a task (not scattered data), so when the
  worker that holds it dies the scheduler recomputes it elsewhere; Dask itself reruns the grading
  tasks a dead worker held (its `allowed-failures` setting bounds how often).
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

MAX_WORKER_DEATHS = 3
IN_PROCESS, POOL, DASK = "in this process", "local pool", "dask"


def runner_for(workers: int, jobs: int, dask_address: str | None) -> str:
    """Which runner grades `jobs` submissions: Dask when a cluster is named, this process when
    one worker would do (one worker asked for, or one job), else a local pool of processes."""
    if dask_address:
        return DASK
    if workers == 1 or jobs == 1:
        return IN_PROCESS
    return POOL


def run_jobs(job, ctx, todo: list, workers: int, dask_address: str | None, failed, prestart: bool = True,
             worker_init=None, log=print, preflight=None, dask_tls=None, dask_insecure: bool = False):
    """Run `job(ctx, submission, prestart_next)` for every submission in `todo`.

    `failed(submission, error)` makes the row of a submission whose job could not finish.
    `preflight(ctx)` runs first where the jobs will run (here, or as a Dask task); when it returns
    a reason, nobody is graded and InfrastructureError says why. `dask_tls` and `dask_insecure`
    are passed to `autograder.cluster.connect` (only loopback or TLS-protected clusters)."""
    if not todo:
        return
    runner = runner_for(workers, len(todo), dask_address)
    if runner == DASK:
        yield from _run_on_dask(job, ctx, todo, dask_address, failed, preflight, dask_tls, dask_insecure)
        return
    if preflight is not None:  # tried twice: one kernel killed from outside is no broken set-up
        _refuse(preflight(ctx) and preflight(ctx))
    if runner == IN_PROCESS:
        for index, sub in enumerate(todo):
            yield sub, job(ctx, sub, prestart and index < len(todo) - 1)
    else:
        yield from _run_on_pool(job, ctx, todo, workers, failed, prestart, worker_init, log)


def _refuse(reason: str | None) -> None:
    if reason:
        from autograder.errors import InfrastructureError

        raise InfrastructureError(f"no grading kernel could be started, so nobody was graded: {reason}")


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop running jobs (Python 3.14 adds
    # terminate_workers); a batch that stops early must not leave workers grading.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, AttributeError):
            pass


# A pool worker's job and plan, set once when the worker starts (`_start_pool_worker`).
_worker_job = None


def _start_pool_worker(worker_init, job, ctx) -> None:
    global _worker_job
    _worker_job = (job, ctx)
    if worker_init is not None:
        worker_init()


def _pool_job(sub, prestart_next: bool):
    job, ctx = _worker_job
    return job(ctx, sub, prestart_next)


def _run_on_pool(job, ctx, todo, workers, failed, prestart, worker_init, log):
    spawn = multiprocessing.get_context("spawn")
    pending = deque(enumerate(todo))
    deaths: dict[int, int] = {}
    last = len(todo) - workers if prestart else 0  # the last ones need no kernel started after them
    while pending:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=spawn,
                                   initializer=_start_pool_worker, initargs=(worker_init, job, ctx))
        inflight: dict = {}
        finished = False
        try:
            broken = False
            while (pending or inflight) and not broken:
                while pending and len(inflight) < workers:
                    index, sub = pending.popleft()
                    try:
                        inflight[pool.submit(_pool_job, sub, index < last)] = (index, sub)
                    except BrokenProcessPool:  # a worker died since the last job was handed out
                        pending.appendleft((index, sub))
                        broken = True
                        break
                if broken:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for future in done:
                    index, sub = inflight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        inflight[future] = (index, sub)  # counted with the others below
                        continue
                    except Exception as error:  # noqa: BLE001 - a job that raised still yields a row
                        yield sub, failed(sub, error)
                        continue
                    yield sub, result
            if broken:
                wait(inflight)  # the pool fails every job it still held
                retry = []
                for future, (index, sub) in sorted(inflight.items(), key=lambda item: item[1][0]):
                    if future.exception() is None:  # finished just before the worker died
                        yield sub, future.result()
                        continue
                    deaths[index] = deaths.get(index, 0) + 1
                    if deaths[index] >= MAX_WORKER_DEATHS:
                        yield sub, failed(sub, RuntimeError(
                            f"grading workers died {deaths[index]} times while this submission was being graded"))
                    else:
                        retry.append((index, sub))
                inflight.clear()
                log(f"a grading worker died; {len(retry)} submission(s) it interrupted are graded again "
                    f"({', '.join(s.student_id for _, s in retry[:8])})")
                pending.extendleft(reversed(retry))
            finished = not broken
        finally:
            if not finished:
                _kill_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)


def _context(ctx):
    return ctx


def _run_on_dask(job, ctx, todo, address, failed, preflight=None, tls=None, allow_insecure: bool = False):
    """Send each submission to a Dask distributed cluster; results come back here (one writer).

    Workers run the same job (same sandbox, same receipts) with the isolation of the machine
    they are on; give them one thread each (`dask worker ADDRESS --nthreads 1`). Only a
    loopback or TLS-protected cluster is used (see cluster.py)."""
    import uuid

    from distributed import as_completed as dask_completed

    from autograder.cluster import connect

    with connect(address, tls, allow_insecure) as client:
        batch = uuid.uuid4().hex[:8]
        shared = client.submit(_context, ctx, pure=False, key=f"context-{ctx.assignment}-{batch}")
        if preflight is not None:
            _refuse(client.submit(preflight, shared, pure=False, key=f"preflight-{batch}").result()
                    and client.submit(preflight, shared, pure=False, key=f"preflight-again-{batch}").result())
        futures = {client.submit(job, shared, sub, False, pure=False,
                                 key=f"grade-{ctx.assignment}-{sub.student_id}-{batch}"): sub for sub in todo}
        try:
            for future in dask_completed(list(futures)):
                sub = futures[future]
                try:
                    yield sub, future.result()
                except Exception as error:  # noqa: BLE001 - a task Dask gave up on still yields a row
                    yield sub, failed(sub, error)
        finally:
            client.cancel(list(futures) + [shared])
