"""What the model is given (`arcttt prompt`): the prompt of a test input under one of the solver's
views, or one of its training samples with the loss positions marked, as the format writes it.

Everything is drawn the way the solver draws it: the views from the task's "views" generator
(`samples.task_views`, as `run.pipeline.solve_task` draws them), the training samples from its "train" generator
(`core.samples.task_samples`, as `run.pipeline.adapt`), prompts encoded with the same token limit
and answer reserve as `engine.infer.prompts_for`. So the ids shown are the ids the model reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from arcttt.core.config import EMBEDDED, SolveConfig
from arcttt.core.errors import ArcError
from arcttt.core.formats import (ARCTTT, SYMBOL_FORMATS, TEXT_FORMATS, Codec, Encoded, SymbolFormat, TextFormat,
                                 answer_reserve)
from arcttt.core.samples import task_samples, task_views
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Task, TaskSet

LOSS_OPEN, LOSS_CLOSE = "{", "}"
"""Around each run of target tokens in a marked sample: no format writes a brace."""


@dataclass(frozen=True)
class Shown:
    """One sequence as the model is given it: its text, and where known its ids (the format's
    reduced ids for a symbol format, the tokenizer's for a text format), the loss mask, the
    model's own token ids, and which demonstrations were left out to fit the token limit."""

    format: str
    text: str
    ids: tuple[int, ...] | None
    loss: tuple[bool, ...] | None
    marked: str
    """The text with every run of target tokens in braces (the plain text when nothing is a target)."""
    what: str
    """Which sequence this is, in words (task, test input or sample, view)."""
    dropped: tuple[int, ...] = ()
    model_ids: tuple[int, ...] | None = None

    def to_json(self) -> dict:
        return {"format": self.format, "text": self.text, "ids": _list(self.ids), "loss": _list(self.loss),
                "model_ids": _list(self.model_ids), "dropped": list(self.dropped), "what": self.what}


def _list(values):
    return list(values) if values is not None else None


def pick_task(taskset: TaskSet, task_id: str | None) -> Task:
    """The task named `task_id`, or the source's only task; an unknown id lists a few known ones."""
    if task_id is None:
        if len(taskset.tasks) == 1:
            return taskset.tasks[0]
        raise ArcError(f"holds {len(taskset.tasks)} tasks: name one with --task ({_some_ids(taskset)})",
                       source=taskset.source)
    found = taskset.by_id().get(task_id)
    if found is None:
        raise ArcError(f"no task {task_id!r} here; known: {_some_ids(taskset)}", source=taskset.source,
                       field="--task")
    return found


def _some_ids(taskset: TaskSet, count: int = 5) -> str:
    ids = [t.id for t in taskset.tasks]
    if not ids:
        return "none could be loaded"
    more = f", ... ({len(ids)} tasks)" if len(ids) > count else ""
    return ", ".join(ids[:count]) + more


def format_without_model(config: SolveConfig) -> SymbolFormat | TextFormat:
    """The format a config names when no tokenizer is read: `auto` is arcttt's for the embedded
    model; for any other model it is recognised from that model's tokenizer, which needs it."""
    model = config.model
    if model.format == "auto":
        if model.name == EMBEDDED:
            return ARCTTT
        raise ArcError(f"format auto is recognised from the tokenizer of {model.name!r}: pass --model "
                       f"{model.name} to read it, or --format to name one", field="model.format")
    return SYMBOL_FORMATS.get(model.format) or TEXT_FORMATS[model.format]


def shown_prompt(task: Task, codec: Codec | TextFormat, config: SolveConfig, view: int = 0, test: int = 0) -> Shown:
    """The prompt of test input `test` under the solver's view `view` (0: identity, demonstrations
    in their own order). A text format without its tokenizer (`TextFormat`) gives the text alone,
    every demonstration kept (which ones fit `infer.max_tokens` depends on the tokenizer)."""
    if not 0 <= test < len(task.test):
        raise ArcError(f"the task has {len(task.test)} test input(s): give 0 to {len(task.test) - 1}",
                       source=task.source, task=task.id, field="--test")
    views = task_views(task, config)
    if not 0 <= view < len(views):
        raise ArcError(f"the solver samples {len(views)} view(s) of this task (infer.views = {config.infer.views}): "
                       f"give 0 to {len(views) - 1}", source=task.source, task=task.id, field="--view")
    transform = views[view]
    seen = transform.apply_task(task)
    what = f"task {task.id}, test input {test}, view {view} ({transform.key})"
    if isinstance(codec, TextFormat):
        text = codec.prompt_text(seen.train, seen.test[test])
        return Shown(codec.name, text, None, None, text, what)
    encoded = codec.encode(seen.train, seen.test[test], max_tokens=config.infer.max_tokens, with_answer=False,
                           reserve=answer_reserve(task, test, codec))
    if encoded is None:
        raise ArcError(f"even the test input alone does not fit infer.max_tokens ({config.infer.max_tokens}): "
                       "the solver gives the model no prompt for it", source=task.source, task=task.id)
    # Inference reads no loss mask (encode marks demonstration outputs all the same): none shown.
    return shown(codec, replace(encoded, mask=(False,) * len(encoded)), what)


def shown_sample(task: Task, codec: Codec | TextFormat, config: SolveConfig, index: int) -> Shown:
    """Training sample `index` of the task's leave-one-out set, as TTT draws it."""
    if isinstance(codec, TextFormat):
        raise ArcError(f"format {codec.name} is read by the model's tokenizer, which decides which training "
                       "samples fit train.max_tokens: pass --model to see one", field="--train")
    samples = task_samples(task, config, task_rng(config.seed, task.id, "train"), codec=codec)
    if not 0 <= index < len(samples):
        raise ArcError(f"the task has {len(samples)} training sample(s): give 0 to {len(samples) - 1}",
                       source=task.source, task=task.id, field="--train")
    return shown(codec, samples[index], f"task {task.id}, training sample {index} of {len(samples)}")


def shown(codec: Codec, encoded: Encoded, what: str) -> Shown:
    """An encoded sequence as text and marked text."""
    ids = tuple(encoded.ids)
    return Shown(codec.name, codec.text(ids), ids, tuple(encoded.mask), marked(codec, ids, encoded.mask), what,
                 tuple(encoded.dropped))


def with_model_ids(seq: Shown, token_ids: list[int] | None) -> Shown:
    """`seq` with the model's own token ids: `token_ids[i]` is the tokenizer's id of a symbol
    format's id i; None: the ids are the model's already (a text format, or the embedded model,
    whose vocabulary is cut to the format's symbols)."""
    if seq.ids is None:
        return seq
    return replace(seq, model_ids=tuple(token_ids[i] for i in seq.ids) if token_ids is not None else seq.ids)


def marked(codec: Codec, ids: tuple[int, ...], mask: tuple[bool, ...]) -> str:
    """The text with each run of target tokens between LOSS_OPEN and LOSS_CLOSE."""
    out, start = [], 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or mask[i] != mask[start]:
            text = codec.text(ids[start:i])
            out.append(f"{LOSS_OPEN}{text}{LOSS_CLOSE}" if mask[start] else text)
            start = i
    return "".join(out)
