"""The process pool that runs corpus jobs, in order, surviving workers that crash.

Why not `ProcessPoolExecutor.map`: results must come back in submission order (de-duplication
keeps the first occurrence, which must be the same on every build), only a window of jobs may be
in flight (the job list is long), and a crash inside LLVM must cost one job, not the build.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool

from encoder.training.corpus.jobs import JobResult, RecipeResult, SourceJob, run_job


class JobPool:
    """Runs jobs in a process pool and yields results in submission order.

    In order, so that "first occurrence wins" in de-duplication picks the same
    module owner on every build. A worker that dies (a crash inside LLVM) breaks
    the pool; the pool is then rebuilt and the job at the head is retried alone,
    and recorded as failed if it breaks the pool again.
    """

    def __init__(self, workers: int, max_chars: int) -> None:
        self.workers = max(1, workers)
        self.max_chars = max_chars
        self.window = self.workers * 4
        self.pool: cf.ProcessPoolExecutor | None = None

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        # forkserver: workers do not inherit the progress bar's thread or open files.
        ctx = multiprocessing.get_context("forkserver")
        return cf.ProcessPoolExecutor(self.workers, mp_context=ctx)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def run(self, jobs: Iterable[SourceJob]) -> Iterator[tuple[SourceJob, JobResult]]:
        if self.workers == 1:
            for t in jobs:
                yield t, run_job(t, self.max_chars)
            return
        if self.pool is None:
            self.pool = self._new_pool()
        pending: deque[tuple[SourceJob, cf.Future[JobResult]]] = deque()
        it = iter(jobs)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.window:
                try:
                    t = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending.append((t, self.pool.submit(run_job, t, self.max_chars)))
            if not pending:
                return
            job, fut = pending.popleft()
            try:
                res = fut.result()
            except BrokenProcessPool:
                res = self._retry_alone(job)
                rest = [t for t, _ in pending]
                pending.clear()
                assert self.pool is not None
                for t in rest:
                    pending.append((t, self.pool.submit(run_job, t, self.max_chars)))
            yield job, res

    def _retry_alone(self, job: SourceJob) -> JobResult:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        try:
            return self.pool.submit(run_job, job, self.max_chars).result()
        except BrokenProcessPool:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            return JobResult(job.key, [RecipeResult(v.name, False, error="worker crashed") for v in job.variants], 0)
