"""How a model is shown a task: arcttt's own layout and those of the anchors' published checkpoints.

A *symbol format* (`arcttt`, `architects`, `nvarc`) writes every cell, row end and marker as one
symbol of a small vocabulary. The model's vocabulary is cut to those symbols (reduced id i is
`symbols[i]`), so the lean engine, the grid grammar, DFS, scoring and stage 1 work the same for
each. In every symbol format cells 0-9 are ids 0-9 and the row separator is id 10.

A *text format* (`marc`) is written as text and read by the model's own tokenizer (multi-character
tokens); it is decoded greedily, without a grammar, and parsed back strictly.

Each layout follows its anchor's code (see `source` and docs/FORMATS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from arcttt.core.grids import MAX_SIDE, Grid
from arcttt.core.tasks import Example, Task

NL = 10  # the row separator's id in every symbol format
DIGITS = tuple("0123456789")


@dataclass(frozen=True)
class Encoded:
    """Token ids, the loss mask (True where a position is a target), and what was left out."""

    ids: tuple[int, ...]
    mask: tuple[bool, ...]
    dropped: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Grammar:
    """What constrained decoding needs to know of a format: the vocabulary's size and the ids of
    the row separator, the answer's end and padding; `rows_ended`: every row (the last too) is
    followed by the separator, else rows are joined by it and the end follows the last cell.
    `grid` False: no grid grammar (a text format), any token may come until `end`."""

    vocab: int
    nl: int
    end: int
    pad: int
    rows_ended: bool = True
    grid: bool = True


def fit(lengths: list[int], fixed: int, max_tokens: int) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Indices of the context kept (in order) and dropped (largest first) to fit `max_tokens`."""
    kept = list(range(len(lengths)))
    dropped = []
    total = fixed + sum(lengths)
    # Drop whole demonstrations, largest first: a truncated grid would teach the wrong rule.
    for i in sorted(kept, key=lambda i: (-lengths[i], i)):
        if total <= max_tokens:
            break
        kept.remove(i)
        dropped.append(i)
        total -= lengths[i]
    return (tuple(kept), tuple(dropped)) if total <= max_tokens else None


def rectangular(rows: list[tuple[int, ...]]) -> Grid | None:
    """The rows as a grid if they make one of 1-30 x 1-30, else None."""
    if not rows or len(rows) > MAX_SIDE or not rows[0] or len(rows[0]) > MAX_SIDE:
        return None
    if any(len(r) != len(rows[0]) for r in rows):
        return None
    return tuple(rows)


@dataclass(frozen=True)
class SymbolFormat:
    """A layout over a small vocabulary: a sequence reads

        opening  (input_open rows separator rows end)*  input_open rows separator [rows end]

    `symbols[i]` is how the model's tokenizer spells reduced id i: a character or word looked up
    alone, a special token by its name (`specials`), or the tokenizer's own `<bos>`, `<eos>` or
    `<pad>`. Loss falls on the output rows and end of the query and of every demonstration
    (after the first unless `loss_first`), when the sample asks for demonstration loss.
    """

    name: str
    symbols: tuple[str, ...]
    opening: tuple[int, ...]
    input_open: tuple[int, ...]
    separator: tuple[int, ...]
    end: int
    pad: int
    bos: int | None
    rows_ended: bool = True
    loss_first: bool = False
    specials: tuple[str, ...] = ()
    source: str = ""
    """The anchor's file this layout was read from."""

    def __post_init__(self):
        if self.symbols[:NL + 1] != (*DIGITS, "\n"):
            raise ValueError(f"format {self.name}: symbols must start with the digits 0-9 and the newline")

    @property
    def grammar(self) -> Grammar:
        return Grammar(len(self.symbols), NL, self.end, self.pad, self.rows_ended)

    @property
    def max_answer_tokens(self) -> int:
        """The longest answer: 30 rows of 30 cells and their separators, then the end."""
        return MAX_SIDE * (MAX_SIDE + 1) + (1 if self.rows_ended else 0)

    def grid_ids(self, grid: Grid) -> list[int]:
        """Row by row, each row's cells then NL (rows joined by NL where rows are not ended)."""
        out: list[int] = []
        for r, row in enumerate(grid):
            if r and not self.rows_ended:
                out.append(NL)
            out.extend(row)
            if self.rows_ended:
                out.append(NL)
        return out

    def grid_length(self, grid: Grid) -> int:
        return len(grid) * (len(grid[0]) + 1) - (0 if self.rows_ended else 1)

    def answer_ids(self, grid: Grid) -> list[int]:
        """What the model writes for `grid` after the prompt: its rows, then the end."""
        return [*self.grid_ids(grid), self.end]

    def pair_length(self, example: Example) -> int:
        """Tokens of one demonstration: input_open rows separator rows end."""
        return (len(self.input_open) + self.grid_length(example.input) + len(self.separator)
                + self.grid_length(example.output) + 1)

    def encode(self, context: tuple[Example, ...], query: Example, max_tokens: int = 8192,
               with_answer: bool = True, demo_loss: bool = True, reserve: int = 0) -> Encoded | None:
        """Encode a sample (context + query) for training, or a prompt for inference.

        With `with_answer` the query output and end follow its separator and are targets; without,
        the sequence ends at the separator and `reserve` tokens are kept free for the answer.
        Context demonstrations are dropped, largest first, until the sequence fits `max_tokens`;
        None if even the query alone does not fit.
        """
        query_len = len(self.opening) + len(self.input_open) + self.grid_length(query.input) + len(self.separator)
        if with_answer:
            query_len += self.grid_length(query.output) + 1
        fitted = fit([self.pair_length(e) for e in context], query_len + reserve, max_tokens)
        if fitted is None:
            return None
        kept, dropped = fitted
        ids: list[int] = []
        mask: list[bool] = []

        def put(tokens, target: bool) -> None:
            ids.extend(tokens)
            mask.extend([target] * len(tokens))

        put(self.opening, False)
        for n, i in enumerate(kept):
            example = context[i]
            put([*self.input_open, *self.grid_ids(example.input), *self.separator], False)
            put(self.answer_ids(example.output), demo_loss and (n > 0 or self.loss_first))
        put([*self.input_open, *self.grid_ids(query.input), *self.separator], False)
        if with_answer:
            put(self.answer_ids(query.output), True)
        return Encoded(tuple(ids), tuple(mask), dropped)

    def parse(self, ids: list[int] | tuple[int, ...]) -> Grid | None:
        """Generated ids (after the prompt) back to a grid; None unless they are well-formed rows
        of cells followed by the end."""
        ids = list(ids)
        if self.end not in ids:
            return None
        body = ids[:ids.index(self.end)]
        if self.rows_ended:
            if not body or body[-1] != NL:
                return None
            body = body[:-1]
        rows: list[tuple[int, ...]] = []
        row: list[int] = []
        for token in body:
            if token == NL:
                rows.append(tuple(row))
                row = []
            elif 0 <= token <= 9:
                row.append(token)
            else:
                return None
        rows.append(tuple(row))
        return rectangular(rows)

    def text(self, ids) -> str:
        """The ids as the format spells them (special tokens by name, BOS/EOS as `<bos>`/`<eos>`)."""
        return "".join(self.symbols[i] for i in ids)


# ---- arcttt -------------------------------------------------------------------------------------

ARCTTT = SymbolFormat(
    name="arcttt",
    symbols=(*DIGITS, "\n", "I", "O", "E", "<bos>", "<pad>"),
    opening=(14,), input_open=(11,), separator=(12,), end=13, pad=15, bos=14,
    source="arcttt's own (MIT-style loss: outputs of every demonstration after the first)")

# ---- the ARChitects -----------------------------------------------------------------------------

# A-Z and a-z without I, O, i, o: the pre-prompt whose embeddings train (their `fmt_opts`).
ARCHITECTS_LETTERS = tuple(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in "IOio")
_A = (*DIGITS, "\n", "I", "+", "/", "-", "=", "O", *ARCHITECTS_LETTERS, "<bos>", "<eos>", "<pad>")
ARCHITECTS = SymbolFormat(
    name="architects",
    symbols=_A,
    # <bos> + the 48 letters; each demonstration: I + rows + "\n+/-=O" + rows + "\n" + <eos>
    # (their rows are joined by "\n" and the reply markers start with one: every row is ended).
    opening=(_A.index("<bos>"), *(_A.index(c) for c in ARCHITECTS_LETTERS)),
    input_open=(_A.index("I"),),
    separator=tuple(_A.index(c) for c in "+/-=O"),
    end=_A.index("<eos>"), pad=_A.index("<pad>"), bos=_A.index("<bos>"),
    source="da-fr/Product-of-Experts-ARC-Paper: arc_loader.py (fmt_train, fmt_input, fmt_output) and the "
           "fmt_opts of evaluate_NemoReArc1200_on_ARCeval_16x_dfs0.090_with_ttt.py (mask_first_n_examples=1)")

# ---- NVARC --------------------------------------------------------------------------------------

_N = (*DIGITS, "\n", "user", "assistant", "<|endoftext|>", "<|im_start|>", "<|im_end|>")
NVARC = SymbolFormat(
    name="nvarc",
    symbols=_N,  # their 16-token vocabulary, in their ids' order (qwen3_configs/vocab.json, added_tokens.json)
    # <|im_start|>user\n rows <|im_end|><|im_start|>assistant\n rows <|im_end|>; rows joined by "\n"
    opening=(),
    input_open=(_N.index("<|im_start|>"), _N.index("user"), NL),
    separator=(_N.index("<|im_end|>"), _N.index("<|im_start|>"), _N.index("assistant"), NL),
    end=_N.index("<|im_end|>"), pad=_N.index("<|endoftext|>"), bos=None,
    rows_ended=False, loss_first=True,  # their collator trains on every assistant turn
    specials=("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
    source="1ytic/NVARC: ARC-AGI1/002_ivan_arc1.ipynb (QwenFormatter, QwenDataCollatorForCompletionOnlyLM) "
           "and ARChitects/qwen3_configs")


# ---- MIT (marc) ---------------------------------------------------------------------------------

MARC_PROMPT = ("Figure out the underlying transformation in the following examples and apply it to the test case. "
               "Here are some examples from this transformation, your answer must follow the format.\n"
               "The input-output grids are provided as python arrays:\n")
_MARC_GRID = re.compile(r"\[(\[[0-9]( [0-9])*\])(\n \[[0-9]( [0-9])*\])*\]")


def numpy_grid(grid: Grid) -> str:
    """A grid as numpy prints an array of digits: `[[0 1]\\n [2 3]]`."""
    return "[" + "\n ".join("[" + " ".join(map(str, row)) + "]" for row in grid) + "]"


@dataclass(frozen=True)
class TextFormat:
    """A chat layout written as text: a system turn with the instructions and every
    demonstration (`input -> output#`), a user turn with the query input, the assistant's turn
    the answer (`output#`). Turns are laid out as the Llama 3 chat template does (content
    trimmed); the text is tokenized by the model's own tokenizer."""

    name: str
    bos: str = "<|begin_of_text|>"
    eot: str = "<|eot_id|>"
    source: str = ""

    def _turn(self, role: str, content: str) -> str:
        return f"<|start_header_id|>{role}<|end_header_id|>\n\n{content.strip()}{self.eot}"

    def demonstration(self, example: Example) -> str:
        return f"{numpy_grid(example.input)} -> {numpy_grid(example.output)}#\n"

    def prompt_text(self, context: tuple[Example, ...], query: Example) -> str:
        return self.prompt_and_outputs(context, query)[0]

    def prompt_and_outputs(self, context: tuple[Example, ...], query: Example) -> tuple[str, list[tuple[int, int]]]:
        """The prompt's text and where each demonstration's output lies in it: ` output#`, from the
        space after "->" (MIT's loss starts at the token after " ->") through the "#"."""
        system = MARC_PROMPT + "".join(self.demonstration(e) for e in context)
        start = len(self.bos + self._turn("system", "")) - len(self.eot) + len(MARC_PROMPT)
        outputs = []
        for e in context:  # trimming the turn only cuts the last "\n": the spans stay where they are
            start += len(f"{numpy_grid(e.input)} ->")
            outputs.append((start, start + len(f" {numpy_grid(e.output)}#")))
            start = outputs[-1][1] + 1
        text = (self.bos + self._turn("system", system) + self._turn("user", f"{numpy_grid(query.input)} -> ")
                + "<|start_header_id|>assistant<|end_header_id|>\n\n")
        return text, outputs

    def answer_text(self, grid: Grid) -> str:
        return f"{numpy_grid(grid)}#{self.eot}"

    def parse_text(self, text: str) -> Grid | None:
        """The answer's text back to a grid, strictly: `[[d d]\\n [d d]]#` and the end of turn."""
        if not text.endswith(self.eot):
            return None
        body = text[:-len(self.eot)]
        if not body.endswith("#") or not _MARC_GRID.fullmatch(body[:-1]):
            return None
        rows = [tuple(int(c) for c in line.strip(" []").split(" ")) for line in body[:-1].split("\n")]
        return rectangular(rows)


MARC = TextFormat(name="marc", source="ekinakyurek/marc: predict.py --new_format (TextExampleRepresenter with "
                                       "io_sep ' -> ', output_footer '#', PythonListGridRepresenter), "
                                       "arclib/messagers.py GPTTextMessageRepresenterV2")


@dataclass(frozen=True)
class TextCodec:
    """A text format and the tokenizer that reads it: encode, answer ids and parsing, as a
    symbol format offers them. `tokenize(text)` gives ids (special tokens in the text as themselves),
    `detokenize(ids)` the text back, `end` the id that ends the answer; `offsets(text)`, where the
    tokenizer can tell, each token's (start, end) characters in the text (for demonstration loss)."""

    format: TextFormat
    tokenize: Callable[[str], list[int]]
    detokenize: Callable[[list[int]], str]
    end: int
    vocab: int
    pad: int = 0
    offsets: Callable[[str], list[tuple[int, int]]] | None = None
    name: str = field(default="")
    symbols = None  # no symbol vocabulary: the model keeps its own (what a stage-1 manifest records)

    def __post_init__(self):
        object.__setattr__(self, "name", self.format.name)

    @property
    def grammar(self) -> Grammar:
        return Grammar(self.vocab, -1, self.end, self.pad, grid=False)

    @property
    def max_answer_tokens(self) -> int:
        return len(self.answer_ids(tuple((0,) * MAX_SIDE for _ in range(MAX_SIDE))))

    def answer_ids(self, grid: Grid) -> list[int]:
        return self.tokenize(self.format.answer_text(grid))

    def encode(self, context: tuple[Example, ...], query: Example, max_tokens: int = 8192,
               with_answer: bool = True, demo_loss: bool = True, reserve: int = 0) -> Encoded | None:
        """As `SymbolFormat.encode`. Loss falls on the answer and, with `demo_loss` (where the
        tokenizer gives offsets), on every token of a demonstration's output after the first, as
        MIT's TTT trains (`unmask_outputs` in marc's configs/ttt, their torchtune fork's Llama 3
        tokenizer: from the token after " ->" through the one holding "#")."""
        lengths = [len(self.tokenize(self.format.demonstration(e))) for e in context]
        prompt = self.tokenize(self.format.prompt_text((), query))
        answer = self.answer_ids(query.output) if with_answer else []
        fitted = fit(lengths, len(prompt) + len(answer) + reserve, max_tokens)
        if fitted is None:
            return None
        kept, dropped = list(fitted[0]), fitted[1]
        while True:
            text, outputs = self.format.prompt_and_outputs(tuple(context[i] for i in kept), query)
            prompt = self.tokenize(text)
            if len(prompt) + len(answer) + reserve <= max_tokens:
                break
            if not kept:
                return None
            # Tokens merge across demonstrations, so the count alone can fall short: drop the next largest.
            largest = min(kept, key=lambda i: (-lengths[i], i))
            kept.remove(largest)
            dropped += (largest,)
        mask = [False] * len(prompt)
        if demo_loss and self.offsets is not None and len(outputs) > 1:
            targets, j = outputs[1:], 0
            for t, (a, b) in enumerate(self.offsets(text)[:len(prompt)]):  # tokens and spans both in order
                while j < len(targets) and targets[j][1] <= a:
                    j += 1
                mask[t] = j < len(targets) and targets[j][0] < b
        return Encoded(tuple(prompt + answer), tuple(mask) + (True,) * len(answer), dropped)

    def parse(self, ids) -> Grid | None:
        ids = list(ids)
        if self.end not in ids:
            return None
        return self.format.parse_text(self.detokenize(ids[:ids.index(self.end) + 1]))

    def text(self, ids) -> str:
        return self.detokenize(list(ids))


Codec = SymbolFormat | TextCodec
"""What the pipeline encodes and parses with: a symbol format, or a text format with its tokenizer."""


def answer_reserve(task: Task, test_index: int, codec: Codec) -> int:
    """Tokens a prompt keeps free for its answer: that of the largest grid seen in the task, with its end."""
    grids = [e.output for e in task.train] + [e.input for e in task.train] + [task.test[test_index].input]
    return max(len(codec.answer_ids(g)) for g in grids)


SYMBOL_FORMATS = {f.name: f for f in (ARCTTT, ARCHITECTS, NVARC)}
TEXT_FORMATS = {f.name: f for f in (MARC,)}
FORMATS = ("auto", *SYMBOL_FORMATS, *TEXT_FORMATS)

# The published checkpoints each format is for: a model id containing one of these is refused
# a stand-in id for any of its format's symbols (it would be trained on the real token).
PUBLISHED = {"architects": ("architects",), "nvarc": ("nvarc",), "marc": ("marc",)}


def published_for(model_name: str) -> str | None:
    """The format a model id names, if it is one of the anchors' published checkpoints: the mark
    as a word of the id or path (`marc-8B`, `-ARChitects-`; not `/home/marcus/`)."""
    lowered = model_name.lower()
    for name, marks in PUBLISHED.items():
        if any(re.search(rf"(?<![a-z]){m}(?![a-z])", lowered) for m in marks):
            return name
    return None
