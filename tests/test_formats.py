"""The anchors' formats (`arcttt.core.formats`), each checked against its anchor's layout written
here from the anchor's code: round trips over every ARC-AGI-1 training task, the prompt text and
loss positions, tiny checkpoints with tokenizers spelt as the anchors' are, TTT, and DFS against
brute force.

The first half is torch-free (tokenizers built with the `tokenizers` library alone); the model
tests import torch inside."""

from __future__ import annotations

import functools
import math

import jinja2
import numpy as np
import pytest
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

from arcttt.core.formats import ARCHITECTS, ARCTTT, MARC, NVARC, SymbolFormat, TextCodec, published_for
from arcttt.core.grids import MAX_SIDE
from arcttt.core.tasks import Example, Task, load_dataset
from arcttt.testing import tiny_model

BIG = 10**7


# ---- tokenizers spelt as the anchors' are (torch-free) -------------------------------------------

# Qwen's pre-tokenizer split (1ytic/NVARC ARChitects/qwen3_configs/tokenizer.json) and Llama 3's
# (the tiktoken pattern of ekinakyurek/torchtune torchtune/models/llama3/_tokenizer.py).
QWEN_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
NVARC_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjklmnpqrstuvwxyz"  # their fmt_opts preprompt
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
# Multi-character tokens as Llama 3 has them: brackets, the separator, a grid's end with its footer.
LLAMA3_MERGES = [("[", "["), ("]", "]"), ("Ġ", "["), ("Ġ[", "["), ("Ġ", "-"), ("Ġ-", ">"), ("]]", "#"),
                 ("]", "Ċ"), ("]]#", "Ċ"), ("Ċ", "Ċ"), ("e", "r"), ("t", "h"), ("th", "e"), ("Ġ", "the")]
LLAMA3_TEMPLATE = ("{% set loop_messages = messages %}{% for message in loop_messages %}"
                   "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
                   "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
                   "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                   "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")


def byte_level(text: str) -> str:
    """How a byte-level tokenizer spells ASCII text ("\\n" is "Ċ", " " is "Ġ")."""
    return "".join("Ċ" if c == "\n" else "Ġ" if c == " " else c for c in text)


def nvarc_tokenizer(drop: str | None = None) -> Tokenizer:
    """The 16-token NVARC tokenizer (qwen3_configs): WordLevel over 0-9, Ċ, user, assistant, then
    the three special tokens 13-15 (`drop`: leave one special out)."""
    vocab = {**{d: int(d) for d in "0123456789"}, "Ċ": 10, "user": 11, "assistant": 12}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([s for s in NVARC_SPECIALS if s != drop])
    return tok


def char_tokenizer(chars: list[str]) -> Tokenizer:
    """One byte-level token per character, `<unk>`/`<s>`/`</s>`/`<pad>` first, `chars` in their order."""
    vocab = {t: i for i, t in enumerate(["<unk>", "<s>", "</s>", "<pad>", *chars])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<unk>", "<s>", "</s>", "<pad>"])
    return tok


def architects_tokenizer() -> Tokenizer:
    """A reduced single-character tokenizer as the ARChitects' (byte-level, `<s>`/`</s>`/`<pad>`),
    ids in an order of its own so that the vocabulary cut must look them up."""
    return char_tokenizer([*"+-/=", *LETTERS[::-1], "I", "O", *"9876543210", "Ċ"])


def llama3_tokenizer() -> Tokenizer:
    """A byte-level BPE tokenizer split as Llama 3's, with multi-character tokens ("[[", " [[",
    " ->", "]]#", "]]#\\n", "]\\n", ...) and Llama 3's special tokens."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {t: i for i, t in enumerate(alphabet)}
    for a, b in LLAMA3_MERGES:
        vocab[a + b] = len(vocab)
    tok = Tokenizer(models.BPE(vocab, LLAMA3_MERGES))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(LLAMA3_SPECIALS)
    return tok


def marc_codec(tok: Tokenizer) -> TextCodec:
    @functools.lru_cache(maxsize=4096)  # the round trips ask for the same texts many times
    def encoded(text):
        return tok.encode(text, add_special_tokens=False)

    def offsets(text):
        return encoded(text).offsets

    return TextCodec(MARC, lambda text: list(encoded(text).ids),
                     lambda ids: tok.decode(list(ids), skip_special_tokens=False), tok.token_to_id("<|eot_id|>"),
                     tok.get_vocab_size(), offsets=offsets)


@pytest.fixture(scope="module")
def llama3():
    return llama3_tokenizer()


@pytest.fixture(scope="module")
def codecs(llama3):
    return {"arcttt": ARCTTT, "architects": ARCHITECTS, "nvarc": NVARC, "marc": marc_codec(llama3)}


@pytest.fixture(scope="module")
def training():
    return load_dataset("arc-agi-1/training").tasks


# ---- 1. round trips over every ARC-AGI-1 training task -------------------------------------------

@pytest.mark.parametrize("name", ["arcttt", "architects", "nvarc", "marc"])
def test_every_training_grid_round_trips_and_prompts_fit_as_documented(name, codecs, training):
    codec = codecs[name]
    assert len(training) == 400
    largest = tuple((9,) * MAX_SIDE for _ in range(MAX_SIDE))
    assert len(codec.answer_ids(largest)) == codec.max_answer_tokens
    for task in training:
        for example in (*task.train, *task.test):
            for grid in (example.input, example.output):
                assert codec.parse(codec.answer_ids(grid)) == grid, task.id
                if name == "marc":  # MIT writes grids as numpy prints them (PythonListGridRepresenter)
                    assert MARC.answer_text(grid) == f"{np.array(grid)}#<|eot_id|>"
        for query in task.test:
            whole = codec.encode(task.train, query, max_tokens=BIG)
            prompt = codec.encode(task.train, query, max_tokens=BIG, with_answer=False)
            assert whole.dropped == () == prompt.dropped
            assert whole.ids == prompt.ids + tuple(codec.answer_ids(query.output))
            assert codec.parse(whole.ids[len(prompt):]) == query.output
            alone = codec.encode((), query, max_tokens=BIG)
            # One token short: whole demonstrations go, the largest first, the rest stay in order.
            short = codec.encode(task.train, query, max_tokens=len(whole) - 1)
            assert short is not None and len(short) <= len(whole) - 1 and short.dropped, task.id
            kept = tuple(e for i, e in enumerate(task.train) if i not in short.dropped)
            assert short.ids == codec.encode(kept, query, max_tokens=BIG).ids
            if name != "marc":  # lengths add up exactly in the symbol formats
                size = [len(codec.encode((e,), query, max_tokens=BIG)) - len(alone) for e in task.train]
                assert short.dropped == (min(range(len(size)), key=lambda i: (-size[i], i)),)
            # Room kept for the answer counts; the query alone must fit.
            reserved = codec.encode(task.train, query, max_tokens=len(prompt) + 5, with_answer=False, reserve=6)
            assert reserved is not None and reserved.dropped and len(reserved) <= len(prompt) - 1
            assert codec.encode(task.train, query, max_tokens=len(alone) - 1) is None


def test_parsing_is_strict(codecs):
    grid = ((1, 2), (3, 4))
    assert ARCTTT.parse([1, 2, 10, 3, 4, 10, 13]) == grid
    assert ARCTTT.parse([1, 2, 10, 3, 4, 13]) is None  # arcttt ends every row
    assert ARCTTT.parse([1, 2, 10, 3, 10, 13]) is None
    assert NVARC.parse([1, 2, 10, 3, 4, 15]) == grid
    assert NVARC.parse([1, 2, 10, 3, 4, 10, 15]) is None  # NVARC joins rows: no newline before the end
    assert NVARC.parse([1, 2, 10, 3, 4]) is None
    end = ARCHITECTS.end
    assert ARCHITECTS.parse([1, 2, 10, 3, 4, 10, end]) == grid
    assert ARCHITECTS.parse([1, 2, 10, 3, 4, 10, ARCHITECTS.symbols.index("O"), end]) is None
    marc = codecs["marc"]
    assert marc.parse(marc.answer_ids(grid)) == grid
    assert marc.parse(marc.tokenize("[[1 2]\n [3]]#<|eot_id|>")) is None
    assert marc.parse(marc.tokenize("[[1 2]\n [3 4]]<|eot_id|>")) is None  # no footer
    assert marc.parse(marc.tokenize("[[1 2] [3 4]]#<|eot_id|>")) is None
    assert marc.parse(marc.tokenize("[[1 2]\n [3 4]]#")) is None  # no end of turn


# ---- 2. the anchors' layouts and loss positions, written from their code -------------------------

TASK = Task("t", (Example(((1, 2), (3, 4)), ((5,),)), Example(((6, 7, 8),), ((9, 0), (1, 1))),
                  Example(((2,),), ((3, 3, 3),))), (Example(((4, 4), (0, 4)), ((7, 7),)),))


def rows_joined(grid) -> str:
    return "\n".join("".join(map(str, row)) for row in grid)


def architects_text(demos, query, answer=None) -> str:
    """arc_loader.py fmt_train/fmt_input/fmt_output with the dfs0.090 script's fmt_opts."""
    text = "<bos>" + LETTERS
    for d in demos:
        text += "I" + rows_joined(d.input) + "\n+/-=O" + rows_joined(d.output) + "\n" + "<eos>"
    text += "I" + rows_joined(query.input) + "\n+/-=O"
    return text + (rows_joined(answer) + "\n" + "<eos>" if answer is not None else "")


def nvarc_text(demos, query, answer=None) -> str:
    """QwenFormatter of 002_ivan_arc1.ipynb (convert_grid_to_string: rows each ended, then stripped)."""
    def grid(g):
        return "".join("".join(str(int(c)) for c in row) + "\n" for row in g).strip()

    text = "".join(f"<|im_start|>user\n{grid(d.input)}<|im_end|><|im_start|>assistant\n{grid(d.output)}<|im_end|>"
                   for d in demos)
    text += "<|im_start|>user\n" + grid(query.input) + "<|im_end|><|im_start|>assistant\n"
    return text + (grid(answer) + "<|im_end|>" if answer is not None else "")


def marc_messages(demos, query):
    """GPTTextMessageRepresenterV2 with --new_format's TextExampleRepresenter (numpy's own str)."""
    prompt = ("Figure out the underlying transformation in the following examples and apply it to the test case. "
              "Here are some examples from this transformation, your answer must follow the format.\n"
              "The input-output grids are provided as python arrays:\n")
    for d in demos:
        prompt += f"{np.array(d.input)} -> " + f"{np.array(d.output)}#" + "\n"
    return [{"role": "system", "content": prompt}, {"role": "user", "content": f"{np.array(query.input)} -> "}]


def marc_text(demos, query) -> str:
    """The Llama 3 chat template on MIT's messages, with the generation prompt (inference/preprocess.py)."""
    return jinja2.Template(LLAMA3_TEMPLATE).render(messages=marc_messages(demos, query), bos_token="<|begin_of_text|>",
                                                   add_generation_prompt=True)


def completion_only_mask(tokens: list[str], instruction: list[str], response: list[str], mask_first: int) -> list[bool]:
    """trl's DataCollatorForCompletionOnlyLM with an instruction template, then the ARChitects'
    InputMaskingDataCollator (model_tools.py): targets run from after each response template to
    the next instruction; the first `mask_first` target blocks are masked again."""
    def starts(template):
        return [i for i in range(len(tokens)) if tokens[i:i + len(template)] == template]

    targets = [False] * len(tokens)
    humans, replies = starts(instruction), [i + len(response) for i in starts(response)]
    for reply in replies:
        following = [h for h in humans if h >= reply]
        for i in range(reply, following[0] if following else len(tokens)):
            targets[i] = True
    for _ in range(mask_first):
        begin = targets.index(True)
        if all(targets[begin:]):
            break
        middle = targets.index(False, begin)
        if middle < len(tokens) and any(targets[middle:]):
            targets[begin:middle] = [False] * (middle - begin)
    return targets


def nvarc_mask(ids: list[int]) -> list[bool]:
    """QwenDataCollatorForCompletionOnlyLM: every assistant turn after "assistant\\n" through <|im_end|>."""
    labels = [False] * len(ids)
    starts = sorted(i for i, t in enumerate(ids) if t in (11, 12))
    ends = [i for i, t in enumerate(ids) if t == 15]
    for j, (start, end) in enumerate(zip(starts, ends)):
        if j % 2 == 1:
            labels[start + 2:end + 1] = [True] * (end + 1 - start - 2)
    return labels


def symbol_tokens(fmt: SymbolFormat, ids) -> list[str]:
    return [fmt.symbols[i] for i in ids]


def test_architects_text_and_loss_are_the_architects():
    demos, query = TASK.train, TASK.test[0]
    prompt = ARCHITECTS.encode(demos, query, with_answer=False)
    assert ARCHITECTS.text(prompt.ids) == architects_text(demos, query)
    sample = ARCHITECTS.encode(demos, query)
    assert ARCHITECTS.text(sample.ids) == architects_text(demos, query, query.output)
    tokens = symbol_tokens(ARCHITECTS, sample.ids)
    assert len(tokens) == len(architects_text(demos, query, query.output).replace("<bos>", "^").replace("<eos>", "$"))
    want = completion_only_mask(tokens, ["I"], list("\n+/-=O"), mask_first=1)
    assert list(sample.mask) == want
    # The targets: outputs of demonstrations 2 and 3 and the answer, each with its "\n" and <eos>.
    targets = "".join(t for t, m in zip(tokens, sample.mask) if m)
    assert targets == "90\n11\n<eos>" + "333\n<eos>" + "77\n<eos>"
    assert not any(ARCHITECTS.encode(demos, query, demo_loss=False).mask[:len(prompt)])


def test_nvarc_text_and_loss_are_nvarcs():
    demos, query = TASK.train, TASK.test[0]
    prompt = NVARC.encode(demos, query, with_answer=False)
    assert NVARC.text(prompt.ids) == nvarc_text(demos, query)
    sample = NVARC.encode(demos, query)
    assert NVARC.text(sample.ids) == nvarc_text(demos, query, query.output)
    assert list(sample.mask) == nvarc_mask(list(sample.ids))
    targets = "".join(t for t, m in zip(symbol_tokens(NVARC, sample.ids), sample.mask) if m)
    assert targets == "5<|im_end|>" + "90\n11<|im_end|>" + "333<|im_end|>" + "77<|im_end|>"
    # NVARC's reduced ids are the tokenizer's own: its tokenizer reads the text back to them.
    assert nvarc_tokenizer().encode(nvarc_text(demos, query, query.output)).ids == list(sample.ids)


def test_marc_text_and_loss_are_mits(llama3, codecs):
    codec = codecs["marc"]
    demos, query = TASK.train, TASK.test[0]
    text = marc_text(demos, query)
    assert MARC.prompt_text(demos, query) == text
    prompt = codec.encode(demos, query, with_answer=False)
    assert prompt.ids == tuple(llama3.encode(text).ids)
    assert codec.text(prompt.ids) == text
    sample = codec.encode(demos, query)
    # Tokenized in one go, the anchor's text gives the same ids (the split at the header holds).
    assert sample.ids == tuple(llama3.encode(text + f"{np.array(query.output)}#<|eot_id|>").ids)
    tokens = [llama3.id_to_token(i) for i in sample.ids]
    assert {"Ġ->", "[[", "Ġ[", "]]#Ċ", "]Ċ"} <= set(tokens), "the test needs multi-character tokens"
    # MIT's TTT (`unmask_outputs`, their torchtune fork's Llama 3 tokenizer): in the system turn,
    # from the token after each " ->" but the first through the one holding "#"; and the answer.
    system_end = sample.ids.index(llama3.token_to_id("<|eot_id|>"))
    want = [False] * len(tokens)
    seps = [i for i, t in enumerate(tokens[:system_end]) if t == "Ġ->"]
    closes = [i for i, t in enumerate(tokens[:system_end]) if "#" in t]
    for sep in seps[1:]:
        close = min(c for c in closes if c > sep)
        want[sep + 1:close + 1] = [True] * (close - sep)
    want[len(prompt):] = [True] * (len(sample) - len(prompt))
    assert list(sample.mask) == want
    targets = llama3.decode([i for i, m in zip(sample.ids, sample.mask) if m], skip_special_tokens=False)
    assert targets == " [[9 0]\n [1 1]]#\n" + " [[3 3 3]]#" + "[[7 7]]#<|eot_id|>"
    plain = codec.encode(demos, query, demo_loss=False)
    assert plain.ids == sample.ids and list(plain.mask) == [False] * len(prompt) + [True] * (len(sample) - len(prompt))


def test_published_names_are_words_of_the_id():
    assert published_for("da-fr/Mistral-NeMo-Minitron-8B-ARChitects-Full-bnb-4bit") == "architects"
    assert published_for("ekinakyurek/marc-8B-finetuned-llama3") == "marc"
    assert published_for("/models/nvarc_qwen3_4b") == "nvarc"
    assert published_for("/home/marcus/llama") is None and published_for("google/gemma-3-270m") is None


# ---- 5. DFS equals brute force under each grid grammar -------------------------------------------

def split_rows(ids: list[int]) -> list[list[int]]:
    rows = [[]]
    for t in ids:
        if t == 10:
            rows.append([])
        else:
            rows[-1].append(t)
    return rows


def grid_prefix(ids: list[int], rows_ended: bool) -> bool:
    """Whether `ids` (no end) can still grow into an answer: digit rows split by 10, one width, <= 30 x 30."""
    *done, row = split_rows(ids)
    if any(t > 10 for t in ids) or any(not r for r in done) or len({len(r) for r in done}) > 1:
        return False
    width = len(done[0]) if done else MAX_SIDE
    count = len(done) + (1 if row or not rows_ended else 0)
    return len(row) <= width <= MAX_SIDE and count <= MAX_SIDE


def grid_answer(ids: list[int], rows_ended: bool) -> bool:
    """Whether `ids` (before the end) are a whole answer in this layout."""
    if rows_ended:
        if not ids or ids[-1] != 10:
            return False
        ids = ids[:-1]
    rows = split_rows(ids)
    return (all(rows) and len({len(r) for r in rows}) == 1 and len(rows) <= MAX_SIDE and len(rows[0]) <= MAX_SIDE
            and all(t < 10 for r in rows for t in r))


def allowed_next(fmt: SymbolFormat, prefix: list[int]) -> list[int]:
    out = [t for t in range(11) if grid_prefix(prefix + [t], fmt.rows_ended)]
    return out + [fmt.end] if grid_answer(prefix, fmt.rows_ended) else out


def tiny_lean(vocab: int, seed: int = 1, cap: float = 2.5):
    """A tiny Llama on the lean engine with softened logits: a bushy tree to search."""
    from arcttt.engine.lm import LeanLM

    lm = LeanLM(tiny_model("llama", vocab, seed), None)
    lm.softcap = cap
    return lm


def brute_force(lm, fmt: SymbolFormat, prompt: list[int], max_new: int, floor: float) -> dict[tuple, float]:
    """Every answer (through the end, at most `max_new` tokens) with log-probability >= floor,
    under the grammar written above, a fresh forward pass per prefix."""
    import torch

    found = {}

    def walk(prefix: list[int], logprob: float) -> None:
        with torch.no_grad():
            logits = lm(torch.tensor([prompt + prefix]))[0, -1]
        allowed = allowed_next(fmt, prefix)
        scores = logits[allowed].log_softmax(-1)
        for token, score in zip(allowed, scores.tolist()):
            if logprob + score < floor:
                continue
            if token == fmt.end:
                found[tuple(prefix + [token])] = logprob + score
            elif len(prefix) + 1 < max_new:
                walk(prefix + [token], logprob + score)

    walk([], 0.0)
    return found


@pytest.mark.parametrize("fmt", [ARCTTT, ARCHITECTS, NVARC], ids=lambda f: f.name)
def test_dfs_returns_exactly_the_answers_above_the_threshold_in_each_layout(fmt):
    import torch

    from arcttt.core.formats import Encoded
    from arcttt.engine.infer import find_answers

    lm = tiny_lean(len(fmt.symbols))
    g = torch.Generator().manual_seed(0)
    asked = [Encoded(tuple(torch.randint(0, len(fmt.symbols), (n,), generator=g).tolist()), ()) for n in (12, 15)]
    min_prob, max_new = (0.0005 if fmt.rows_ended else 0.002), 6  # rows ended: one token more an answer
    sampled = find_answers(lm, asked, torch.device("cpu"), batch_prompts=2, max_new_tokens=max_new,
                           min_prob=min_prob, max_branches=10**6, grammar=fmt.grammar)
    assert not sampled.truncated
    total = 0
    for prompt, answers in zip(asked, sampled.answers):
        want = brute_force(lm, fmt, list(prompt.ids), max_new, math.log(min_prob))
        total += len(want)
        got = {tuple(a): lp for a, lp in answers}
        assert len(got) == len(answers)
        assert set(want) <= set(got) and set(got) - set(want) <= {tuple(answers[0][0])}  # the greedy one
        for answer, logprob in want.items():
            assert got[answer] == pytest.approx(logprob, abs=1e-4)
            assert fmt.parse(list(answer)) is not None
            if not fmt.rows_ended:
                assert answer[-2] != 10, "joined rows end after the last cell"
    assert total >= 10, "the test needs a bushy tree"


# ---- 3. tiny checkpoints with the anchors' tokenizers: format, vocabulary cut, refusals ----------

ROLES = {"arcttt": dict(bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"),
         "architects": dict(bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"),
         "nvarc": dict(eos_token="<|im_end|>", pad_token="<|endoftext|>",
                       additional_special_tokens=["<|im_start|>", "<|im_end|>"]),
         "marc": dict(bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")}


def arcttt_tokenizer() -> Tokenizer:
    """Single characters, as the embedded Gemma's lookup finds them (one token per symbol)."""
    return char_tokenizer(["E", "O", "I", *"0123456789", "Ċ", "x", "y"])


def anchor_tokenizer(name: str, drop: str | None = None):
    """The format's tokenizer as a transformers tokenizer (the Llama 3 one with its chat template)."""
    from transformers import PreTrainedTokenizerFast

    backend = {"arcttt": arcttt_tokenizer, "architects": architects_tokenizer, "marc": llama3_tokenizer,
               "nvarc": lambda: nvarc_tokenizer(drop)}[name]()
    roles = {k: v for k, v in ROLES[name].items() if v != drop}
    if "additional_special_tokens" in roles:
        roles["additional_special_tokens"] = [t for t in roles["additional_special_tokens"] if t != drop]
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **roles)
    if name == "marc":
        tokenizer.chat_template = LLAMA3_TEMPLATE
    return tokenizer


def save_checkpoint(directory, name: str, arch: str, drop: str | None = None):
    tokenizer = anchor_tokenizer(name, drop)
    model = tiny_model(arch, 16 if name == "nvarc" else len(tokenizer))
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return model, tokenizer


def own_ids(fmt: SymbolFormat, tokenizer) -> list[int]:
    """The tokenizer's id for each of the format's symbols, read off its vocabulary by hand."""
    vocab, roles = tokenizer.get_vocab(), {"<bos>": "bos_token", "<eos>": "eos_token", "<pad>": "pad_token"}
    return [vocab[getattr(tokenizer, roles[s])] if s in roles else vocab[s] if s in fmt.specials
            else vocab[byte_level(s)] for s in fmt.symbols]


CASES = [("arcttt", "gemma3", "no anchor's checkpoint recognised"),
         ("architects", "mistral", "a single-character vocabulary with the ARChitects' markers"),
         ("architects", "llama", "a single-character vocabulary with the ARChitects' markers"),
         ("nvarc", "qwen3", "its 16-token NVARC vocabulary"),
         ("marc", "llama", "the model id names the marc checkpoints")]


@pytest.mark.parametrize("name,arch,why", CASES, ids=[f"{n}-{a}" for n, a, _ in CASES])
def test_a_checkpoint_loads_in_its_format_keeping_its_own_rows(name, arch, why, tmp_path, capsys):
    import torch

    from arcttt.core.config import ModelConfig
    from arcttt.engine.model import load_model

    directory = tmp_path / (f"{arch}-marc-8B" if name == "marc" else f"tiny-{arch}")
    full, tokenizer = save_checkpoint(directory, name, arch)
    demos, query = TASK.train, TASK.test[0]
    for asked in (name, "auto"):
        capsys.readouterr()
        loaded = load_model(ModelConfig(name=str(directory), format=asked, device="cpu", dtype="float32"))
        notices = capsys.readouterr().err
        assert loaded.codec.name == name
        if asked == "auto":
            assert f"format {name} ({why}" in notices
        assert "stand-in" not in notices
        embeddings, head = loaded.model.get_input_embeddings().weight, loaded.model.get_output_embeddings().weight
        if name == "marc":  # a text format keeps the whole vocabulary and reads with the tokenizer
            assert torch.equal(embeddings, full.get_input_embeddings().weight)
            messages = marc_messages(demos, query)
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            assert text == marc_text(demos, query)
            sample = loaded.codec.encode(demos, query)
            assert sample.ids == tuple(tokenizer.encode(text + f"{np.array(query.output)}#<|eot_id|>",
                                                        add_special_tokens=False))
            assert loaded.codec.parse(sample.ids[len(loaded.codec.encode(demos, query, with_answer=False)):]) \
                == query.output
            continue
        fmt = SYMBOL_FORMATS_BY_NAME[name]
        assert loaded.codec is fmt
        ids = own_ids(fmt, tokenizer)
        assert torch.equal(embeddings, full.get_input_embeddings().weight[ids])
        assert torch.equal(head, full.get_output_embeddings().weight[ids])
        assert (loaded.model.config.eos_token_id, loaded.model.config.pad_token_id) == (fmt.end, fmt.pad)
        if name != "arcttt":  # the anchor's tokenizer reads the anchor's text to the same tokens
            text = (architects_text(demos, query, query.output).replace("<bos>", "<s>").replace("<eos>", "</s>")
                    if name == "architects" else nvarc_text(demos, query, query.output))
            assert tokenizer.encode(text, add_special_tokens=False) == [ids[i] for i in fmt.encode(demos, query).ids]


SYMBOL_FORMATS_BY_NAME = {f.name: f for f in (ARCTTT, ARCHITECTS, NVARC)}


def test_a_published_checkpoint_missing_a_symbol_is_refused(tmp_path, capsys):
    from arcttt.core.config import ModelConfig
    from arcttt.core.errors import ArcError
    from arcttt.engine.codecs import load_codec
    from arcttt.engine.model import load_model

    published = tmp_path / "Qwen3-4B-NVARC"
    save_checkpoint(published, "nvarc", "qwen3", drop="<|im_end|>")
    for asked in ("auto", "nvarc"):
        with pytest.raises(ArcError, match=r"published for the nvarc format.*'<\|im_end\|>'"):
            load_model(ModelConfig(name=str(published), format=asked, device="cpu", dtype="float32"))
    # Another name: a stand-in id, and the user is told which symbol got it.
    other = tmp_path / "my-qwen"
    save_checkpoint(other, "nvarc", "qwen3", drop="<|im_end|>")
    capsys.readouterr()
    codec, ids = load_codec(ModelConfig(name=str(other), format="nvarc"))
    assert codec is NVARC and len(set(ids)) == 16 and ids[NVARC.end] == 15  # the row beyond the tokenizer's
    assert "stand-in ids (trained from scratch) for '<|im_end|>'" in capsys.readouterr().err


# ---- 4. TTT turns a wrong answer into the right one in each format -------------------------------

# A fixed colour swap (1 <-> 2) on single cells, as tests/test_ttt.py learns it in arcttt's format.
SWAP = Task("swap", tuple(Example(((a,),), ((b,),)) for a, b in [(1, 2), (2, 1), (1, 2), (2, 1)]),
            (Example(((1,),), ((2,),)),))
TTT_CASES = [("arcttt", "gemma3"), ("architects", "mistral"), ("nvarc", "qwen3"), ("marc", "llama")]


@pytest.mark.parametrize("name,arch", TTT_CASES, ids=[f"{n}-{a}" for n, a in TTT_CASES])
def test_ttt_turns_a_wrong_answer_into_the_right_one(name, arch, codecs):
    import torch

    from arcttt.core.config import SolveConfig, override
    from arcttt.engine.model import LoadedModel
    from arcttt.engine.runtime import Runtime
    from arcttt.run.pipeline import solve_task

    codec = codecs[name]
    vocab = codec.vocab if name == "marc" else len(codec.symbols)

    def config(steps):
        return override(SolveConfig(), {"expert": "ttt", "ttt": steps > 0, "model.adapter": "", "train.steps": steps, "train.lr": 3e-3, "train.warmup": 0.0, "train.colours": "none", "train.max_batch_samples": 1, "infer.views": 1})

    def loaded():
        return LoadedModel(tiny_model(arch, vocab), torch.device("cpu"), torch.float32, "tiny", "none", codec=codec)

    truth = SWAP.test[0].output
    before = solve_task(SWAP, Runtime(config(0), loaded(), with_adapter=True), config(0))
    assert truth not in before.attempts[0]
    after = solve_task(SWAP, Runtime(config(150), loaded()), config(150))
    assert after.attempts[0][0] == truth
    # (marc's loss stays above zero: whether a demonstration's "]]#" takes the "\n" after it tells
    # whether another demonstration follows.)
    assert after.train.losses[-1] < 0.1 * after.train.losses[0]
