import pytest

from arcttt.core.predictions import load_predictions, write_predictions
from arcttt.core.score import score

G1, G2, G3 = ((1,),), ((2,),), ((3,),)
SOLUTIONS = {"a": (G1, G2), "b": (G3,), "c": (G1,)}


def test_perfect_predictions_score_one():
    predictions = {k: tuple((g, g) for g in v) for k, v in SOLUTIONS.items()}
    report = score(predictions, SOLUTIONS)
    assert report.score == 1.0 and report.outputs_correct == report.outputs_total == 4
    assert report.solved == ("a", "b", "c")


def test_partial_predictions_give_both_conventions():
    predictions = {
        "a": ((G1, G3), (G3, G3)),  # first output right, second wrong: 1/2
        "b": ((G1, G3),),  # right through attempt 2
        "z": ((G1, G1),),  # not in the solutions
    }
    report = score(predictions, SOLUTIONS)
    assert report.score == pytest.approx((0.5 + 1 + 0) / 3)
    assert (report.outputs_correct, report.outputs_total) == (2, 4)
    assert report.missing == ("c",) and report.unknown == ("z",)
    assert report.solved == ("b",)


def test_too_few_entries_count_as_wrong():
    report = score({"a": ((G1, G1),)}, {"a": (G1, G2)})
    assert report.rows[0].correct == (True, False)


def test_predictions_round_trip_through_the_file(tmp_path):
    predictions = {"a": ((G1, G2), (G2, G3))}
    path = tmp_path / "sub" / "predictions.json"
    write_predictions(path, predictions)
    assert load_predictions(path) == predictions
    assert [p.name for p in path.parent.iterdir()] == ["predictions.json"]  # no temp file left
