"""`arcttt prompt`: exactly what the model is given, in each format, checked against the anchors'
layouts written out by hand, and against what the solver itself builds."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.config import SolveConfig, override
from arcttt.core.errors import ArcError
from arcttt.core.formats import ARCTTT, NVARC, SYMBOL_FORMATS
from arcttt.core.prompt import shown_prompt, shown_sample
from arcttt.core.samples import task_views
from arcttt.core.samples import task_samples
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import load_source
from conftest import SAMPLE

# Two demonstrations of different sizes and one test input: small enough to write out by hand.
TASK = {"train": [{"input": [[1, 2], [3, 4]], "output": [[5]]},
                  {"input": [[6]], "output": [[7, 8]]}],
        "test": [{"input": [[9, 0]], "output": [[1], [2]]}]}

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjklmnpqrstuvwxyz"
# Each anchor's layout, from its specification (docs/FORMATS.md, ANCHORS.md section 8),
# not from arcttt's code: demonstrations in their own order, the query ends where the answer starts.
EXPECTED = {
    # arcttt: <bos>, then per pair I rows(each ended by \n) O rows(each ended by \n) E.
    "arcttt": "<bos>" + "I12\n34\nO5\nE" + "I6\nO78\nE" + "I90\nO",
    # The ARChitects: <bos> + 48 letters; I + rows joined by \n + \n+/-=O + rows + \n<eos>.
    "architects": "<bos>" + LETTERS + "I12\n34" + "\n+/-=O" + "5" + "\n<eos>"
                  + "I6" + "\n+/-=O" + "78" + "\n<eos>" + "I90" + "\n+/-=O",
    # NVARC: chat turns, no system message, rows joined by \n.
    "nvarc": "<|im_start|>user\n12\n34<|im_end|><|im_start|>assistant\n5<|im_end|>"
             "<|im_start|>user\n6<|im_end|><|im_start|>assistant\n78<|im_end|>"
             "<|im_start|>user\n90<|im_end|><|im_start|>assistant\n",
}
MIT_SYSTEM = ("Figure out the underlying transformation in the following examples and apply it to the test case. "
              "Here are some examples from this transformation, your answer must follow the format.\n"
              "The input-output grids are provided as python arrays:\n")
# MIT (marc --new_format): numpy-printed grids, `input -> output#` per line in the system turn, the
# test input and " -> " in the user turn, inside Llama 3's chat template (each content trimmed).
EXPECTED["marc"] = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + MIT_SYSTEM
                    + "[[1 2]\n [3 4]] -> [[5]]#\n[[6]] -> [[7 8]]#<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\n[[9 0]] -><|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n")


def invoke(*args):
    return CliRunner().invoke(app, ["prompt", *map(str, args)])


@pytest.fixture
def task_file(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TASK))
    return path


def as_json(*args) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # JSON only on stdout


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_the_prompt_is_the_anchors_layout(task_file, fmt):
    result = invoke(task_file, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED[fmt] + "\n"
    assert f"format {fmt}" in result.stderr and "view 0 (id)" in result.stderr


def test_the_default_is_arcttt_for_the_embedded_model(task_file):
    assert invoke(task_file).stdout == EXPECTED["arcttt"] + "\n"


def test_json_gives_the_ids_the_model_reads(task_file):
    shown = as_json(task_file, "--task", "tiny")
    assert shown["format"] == "arcttt" and shown["text"] == EXPECTED["arcttt"]
    # <bos>=14 I=11 O=12 E=13 \n=10, cells are their own ids.
    assert shown["ids"] == [14, 11, 1, 2, 10, 3, 4, 10, 12, 5, 10, 13, 11, 6, 10, 12, 7, 8, 10, 13, 11, 9, 0, 10, 12]
    assert shown["loss"] == [False] * len(shown["ids"])  # a prompt has no target
    assert shown["model_ids"] is None and shown["dropped"] == []
    nvarc = as_json(task_file, "--format", "nvarc")
    # Their 16 ids: digits, \n=10, user=11, assistant=12, <|im_start|>=14, <|im_end|>=15.
    assert nvarc["ids"][:14] == [14, 11, 10, 1, 2, 10, 3, 4, 15, 14, 12, 10, 5, 15]
    assert "".join(NVARC.symbols[i] for i in nvarc["ids"]) == EXPECTED["nvarc"]


def test_a_text_format_without_its_tokenizer_is_text_alone(task_file):
    shown = as_json(task_file, "--format", "marc")
    assert shown["text"] == EXPECTED["marc"] and shown["ids"] is None and shown["loss"] is None
    assert "pass --model" in invoke(task_file, "--format", "marc").stderr


def test_a_model_gives_its_own_token_ids(task_file, hub_model_dir):
    # The tiny hub tokenizer's words (arcttt.testing.TOKENIZER_WORDS): <s>=1, digits 12-21, \n=22, I=23, O=24, E=25.
    shown = as_json(task_file, "--model", hub_model_dir, "--format", "arcttt")
    own = {**{d: 12 + d for d in range(10)}, 10: 22, 11: 23, 12: 24, 13: 25, 14: 1}
    assert shown["model_ids"] == [own[i] for i in shown["ids"]]
    assert shown["text"] == EXPECTED["arcttt"]
    embedded = as_json(task_file, "--model", "embedded")  # its vocabulary is cut already: no weights read
    assert embedded["model_ids"] == embedded["ids"]
    plain = invoke(task_file, "--model", "embedded").stdout.splitlines()
    assert plain[-2] == "ids: " + " ".join(map(str, embedded["ids"])) and plain[-1].startswith("model ids: ")


# --- training samples ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, expected", [
    # Sample 0 is the first leave-one-out sample: demonstration 1 as context, demonstration 0 the query.
    # arcttt trains on every output after the first; NVARC on every assistant turn.
    ("arcttt", "<bos>I6\nO78\nEI12\n34\nO{5\nE}"),
    ("nvarc", "<|im_start|>user\n6<|im_end|><|im_start|>assistant\n{78<|im_end|>}"
              "<|im_start|>user\n12\n34<|im_end|><|im_start|>assistant\n{5<|im_end|>}"),
    ("architects", "<bos>" + LETTERS + "I6\n+/-=O78\n<eos>I12\n34\n+/-=O{5\n<eos>}"),
])
def test_a_training_sample_marks_its_targets(task_file, fmt, expected):
    result = invoke(task_file, "--format", fmt, "--train", 0)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected + "\n"


@pytest.mark.parametrize("fmt", sorted(SYMBOL_FORMATS))
def test_loss_marks_are_the_samples_mask(fmt):
    task = load_source(SAMPLE).tasks[0]
    config = override(SolveConfig(), {"model.format": fmt})
    samples = task_samples(task, config, task_rng(config.seed, task.id, "train"), codec=SYMBOL_FORMATS[fmt])
    for index in (0, 5, len(samples) - 1):
        result = invoke(SAMPLE, "--task", task.id, "--format", fmt, "--train", index, "--json")
        shown = json.loads(result.stdout)
        assert tuple(shown["ids"]) == samples[index].ids and tuple(shown["loss"]) == samples[index].mask
    # In the marked text, what lies in braces is exactly the targets' symbols.
    seq = shown_sample(task, SYMBOL_FORMATS[fmt], config, 5)
    symbols = SYMBOL_FORMATS[fmt].symbols
    inside = "".join(part.split("}")[0] for part in seq.marked.split("{")[1:])
    assert inside == "".join(symbols[i] for i, target in zip(seq.ids, seq.loss) if target)
    assert seq.marked.replace("{", "").replace("}", "") == seq.text


# --- views --------------------------------------------------------------------------------------

def test_another_view_transforms_the_task(task_file):
    identity, other = as_json(task_file, "--view", 0), as_json(task_file, "--view", 1)
    assert other["text"] != identity["text"] and "view 1 (" in other["what"]
    task = load_source(task_file).tasks[0]
    view = task_views(task, SolveConfig())[1]
    seen = view.apply_task(task)
    # The query is the transformed test input (the view's colours and symmetry applied).
    assert other["ids"][-(len(ARCTTT.grid_ids(seen.test[0].input)) + 2):] == [11, *ARCTTT.grid_ids(seen.test[0].input), 12]


@pytest.mark.parametrize("fmt", ["arcttt", "nvarc"])
def test_every_view_is_the_prompt_the_solver_builds(monkeypatch, fmt):
    """Through the solver's own code: solve_task draws its views and prompts, and they are ours."""
    from arcttt.run import pipeline

    task = load_source(SAMPLE).tasks[1]
    config = override(SolveConfig(), {"expert": "ttt", "model.format": fmt, "infer.views": 5, "train.colours": "all"})
    codec = SYMBOL_FORMATS[fmt]
    built = []

    def capture(*args, **kwargs):
        built.extend(real(*args, **kwargs))
        raise StopIteration

    real = pipeline.prompts_for
    monkeypatch.setattr(pipeline, "prompts_for", capture)
    with pytest.raises(StopIteration):
        pipeline.solve_task(task, SimpleNamespace(adapted=False, codec=codec), config)
    assert len(built) == 5 * len(task.test)
    for k in range(5):
        for i in range(len(task.test)):
            prompt = next(p for j, view, p in built if j == i and view == task_views(task, config)[k])
            assert shown_prompt(task, codec, config, k, i).ids == prompt.ids


def test_training_samples_are_the_ones_ttt_trains_on(monkeypatch):
    from arcttt.run import pipeline

    task = load_source(SAMPLE).tasks[2]
    config = override(SolveConfig(), {"expert": "ttt", "model.format": "architects", "train.max_examples": 40})
    built = []

    def capture(*args, **kwargs):
        built.append(real(*args, **kwargs))
        raise StopIteration

    real = pipeline.training_data
    monkeypatch.setattr(pipeline, "training_data", capture)
    runtime = SimpleNamespace(adapted=True, lm=SimpleNamespace(reset=lambda: None), pool=None,
                              codec=SYMBOL_FORMATS["architects"], device=None)
    with pytest.raises(StopIteration):
        pipeline.solve_task(task, runtime, config)
    own = built[0].own
    assert len(own) == 40
    for n in (0, 17, 39):
        assert shown_sample(task, SYMBOL_FORMATS["architects"], config, n).ids == own[n].ids


# --- errors -------------------------------------------------------------------------------------

def test_an_unknown_task_lists_known_ones():
    result = invoke(SAMPLE, "--task", "nope")
    assert isinstance(result.exception, ArcError)
    assert "no task 'nope'" in str(result.exception) and "00576224" in str(result.exception)
    assert "--task" in str(result.exception)
    several = invoke(SAMPLE)
    assert isinstance(several.exception, ArcError) and "name one with --task" in str(several.exception)


def test_a_view_or_sample_out_of_range_names_the_option(task_file):
    for args, field in ((("--view", 8), "--view"), (("--train", 250), "--train"), (("--test", 1), "--test")):
        result = invoke(task_file, *args)
        assert isinstance(result.exception, ArcError), result.output
        assert f"field {field}" in str(result.exception) and "tiny" in str(result.exception)


def test_usage_errors_exit_2(task_file):
    assert invoke(task_file, "--train", 0, "--view", 1).exit_code == 2
    bad = invoke(task_file, "--format", "llama")
    assert bad.exit_code == 2 and "--format" in bad.output


def test_what_needs_a_tokenizer_says_so(task_file, tmp_path):
    marc = invoke(task_file, "--format", "marc", "--train", 0)
    assert isinstance(marc.exception, ArcError) and "format marc is read by the model's tokenizer" in str(marc.exception)
    config = tmp_path / "c.toml"
    config.write_text('[model]\nname = "some/hub-model"\n')
    auto = invoke(task_file, "--config", config)
    assert isinstance(auto.exception, ArcError) and "pass --model some/hub-model" in str(auto.exception)
    named = invoke(task_file, "--config", config, "--format", "nvarc")  # a named format needs no tokenizer
    assert named.exit_code == 0 and named.stdout == EXPECTED["nvarc"] + "\n"


def test_every_option_shows_its_default():
    help_text = " ".join(CliRunner().invoke(app, ["prompt", "--help"]).stdout.split())
    for fragment in ("[default: auto]", "[default: 0]", "[default: off]", "{...}"):
        assert fragment in help_text, fragment


def test_a_text_format_with_its_tokenizer_gives_ids_and_marks_the_answer():
    from test_formats import llama3_tokenizer, marc_codec

    tok = llama3_tokenizer()
    codec, task = marc_codec(tok), load_source_json(TASK)
    seq = shown_prompt(task, codec, SolveConfig())
    assert seq.text == EXPECTED["marc"] and list(seq.ids) == tok.encode(EXPECTED["marc"]).ids
    # Sample 0: demonstration 1 as context, demonstration 0 the query; its answer is the target.
    sample = shown_sample(task, codec, SolveConfig(), 0)
    prompt = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + MIT_SYSTEM
              + "[[6]] -> [[7 8]]#<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n[[1 2]\n [3 4]] -><|eot_id|>"
              + "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert sample.marked == prompt + "{[[5]]#<|eot_id|>}"


def load_source_json(obj):
    from arcttt.core.tasks import parse_task

    return parse_task(obj, "tiny", "tiny.json")
