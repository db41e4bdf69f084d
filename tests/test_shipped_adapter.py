"""The shipped stage-1 adapter's manifest proves it never trained on an evaluation task."""

import json

import pytest

from arcttt.core.contamination import task_grid_hashes, task_hashes
from arcttt.core.tasks import load_source
from arcttt.engine.adapters import ADAPTER_MANIFEST, EMBEDDED_ADAPTER

EVALUATION = ["arc-agi-1/evaluation", "arc-agi-2/evaluation", "kaggle-2024/evaluation", "kaggle-2025/evaluation",
              "arc-2019/evaluation"]
MANIFEST = json.loads((EMBEDDED_ADAPTER / ADAPTER_MANIFEST).read_text())


@pytest.mark.parametrize("source", EVALUATION)
def test_no_evaluation_id_pair_or_grid_is_in_the_trained_set(source):
    tasks = load_source(source).tasks
    assert len(tasks) >= 120
    trained_ids = set(MANIFEST["trained_tasks"]) | set(MANIFEST["held_out_tasks"])
    assert not trained_ids & {t.id for t in tasks}
    assert not set(MANIFEST["trained_pair_hashes"]) & {h for t in tasks for h in task_hashes(t)}
    assert not set(MANIFEST["trained_grid_hashes"]) & {h for t in tasks for h in task_grid_hashes(t)}
    assert source in MANIFEST["excluded_sources"]


def test_manifest_records_what_a_user_needs_to_trust_it():
    assert MANIFEST["base_model"] == "embedded" and len(MANIFEST["base_digest"]) == 32
    assert MANIFEST["tokens"] > 1_000_000 and len(MANIFEST["trained_tasks"]) > 500
    assert MANIFEST["held_out_loss"]["after"] < MANIFEST["held_out_loss"]["before"]
    assert MANIFEST["commit"] and MANIFEST["config"]["max_tokens"] >= 2048
    size = sum(p.stat().st_size for p in EMBEDDED_ADAPTER.iterdir())
    assert size <= 16 * 2**20
