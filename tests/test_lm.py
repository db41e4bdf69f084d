"""The lean engine computes what transformers computes, trains like one-sample-at-a-time, decodes
exactly with merged or unmerged LoRA, and never writes the base weights."""

import numpy as np
import pytest
import torch

from arcttt.core.config import LoraConfig, TrainConfig
from arcttt.core.encode import BOS, PAD, Encoded
from arcttt.engine.hf import HfLM
from arcttt.engine.lm import LeanLM, supports
from arcttt.engine.ttt import collate, masked_loss, token_batches, train
from arcttt.testing import tiny_gemma, tiny_loaded, tiny_mistral, tiny_qwen3
from conftest import greedy as generate, weights_checksum


def models():
    return {"llama": tiny_loaded().model, "gemma3": tiny_gemma(), "qwen3": tiny_qwen3(), "mistral": tiny_mistral()}


def test_a_mistral_with_a_sliding_window_goes_to_the_hf_backend():
    assert "sliding window" in supports(tiny_mistral(sliding_window=8))


def random_ids(length, batch=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 14, (batch, length), generator=g)


@pytest.mark.parametrize("name", ["llama", "gemma3", "qwen3", "mistral"])
@pytest.mark.parametrize("length", [5, 12, 40])  # within, up to twice, and many times the sliding window
def test_lean_forward_equals_transformers(name, length):
    model = models()[name]
    assert supports(model) is None
    ids = random_ids(length, batch=2)
    with torch.no_grad():
        expected = model(input_ids=ids).logits
        got = LeanLM(model, None)(ids)
    torch.testing.assert_close(got, expected, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["llama", "gemma3"])
@pytest.mark.parametrize("length", [5, 12, 40])
def test_the_gpu_attention_kernel_computes_the_same_function_and_gradients(name, length):
    lean = LeanLM(models()[name], LoraConfig(rank=4, alpha=8), seed=1)
    ids = random_ids(length, batch=2)
    results = []
    for flash in (False, True):
        lean.flash = flash  # on by default only on CUDA; the math is the same on the CPU
        lean.reset()
        logits = lean(ids)
        logits.square().mean().backward()
        results.append((logits.detach(), [p.grad.clone() for p in lean.trainable()]))
    (plain, plain_grads), (fused, fused_grads) = results
    torch.testing.assert_close(fused, plain, atol=2e-4, rtol=1e-4)
    for a, b in zip(fused_grads, plain_grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-3)


def test_lora_forward_equals_peft_with_the_same_weights():
    model = tiny_gemma()
    lean = LeanLM(model, LoraConfig(rank=4, alpha=8), seed=1)
    with torch.no_grad():
        for p in lean.trainable():
            p.normal_(0, 0.1)
    peft_lm = HfLM(model, LoraConfig(rank=4, alpha=8))
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(peft_lm.model, lean.lora_state())
    ids = random_ids(20, batch=2)
    with torch.no_grad():
        torch.testing.assert_close(lean(ids), peft_lm(ids), atol=2e-4, rtol=1e-4)


def test_a_batch_gives_the_token_weighted_loss_of_its_samples_one_at_a_time():
    lean = LeanLM(tiny_gemma(), LoraConfig(rank=4, alpha=8))
    samples = [Encoded(tuple(random_ids(n, seed=n)[0].tolist()), tuple(i % 3 == 0 for i in range(n))) for n in (9, 14, 30)]
    with torch.no_grad():
        ids, targets = collate(samples, torch.device("cpu"), PAD)
        batched = masked_loss(lean(ids), ids, targets)
        singles, weights = [], []
        for s in samples:
            ids, targets = collate([s], torch.device("cpu"), PAD)
            singles.append(masked_loss(lean(ids), ids, targets))
            weights.append(targets[:, 1:].sum())
    expected = sum(l * w for l, w in zip(singles, weights)) / sum(weights)
    torch.testing.assert_close(batched, expected, atol=1e-5, rtol=1e-5)


def test_a_batch_gives_the_same_loss_in_bfloat16():
    lean = LeanLM(tiny_gemma(dtype=torch.bfloat16), LoraConfig(rank=4, alpha=8))
    samples = [Encoded(tuple(random_ids(n, seed=n)[0].tolist()), (True,) * n) for n in (9, 30)]
    with torch.no_grad():
        ids, targets = collate(samples, torch.device("cpu"), PAD)
        batched = masked_loss(lean(ids), ids, targets)
        singles = [masked_loss(lean(i), i, t) for i, t in (collate([s], torch.device("cpu"), PAD) for s in samples)]
    expected = (singles[0] * 8 + singles[1] * 29) / 37
    assert abs(batched.item() - expected.item()) < 0.02 * expected.item()


def test_token_batches_cover_every_sample_once_within_the_budget():
    lengths = [5, 100, 6, 101, 7, 102, 8, 103, 500]
    batches = token_batches(lengths, 210, np.random.default_rng(0))
    assert sorted(i for b in batches for i in b) == list(range(9))
    assert all(len(b) * max(lengths[i] for i in b) <= 210 or len(b) == 1 for b in batches)
    assert [8] in batches  # longer than the budget: alone
    assert all(len(b) == 1 for b in token_batches(lengths, 10_000, np.random.default_rng(0), max_rows=1))


def answer_prompts(n, seed=0):
    return [Encoded(tuple([BOS] + random_ids(length, seed=seed + length)[0].tolist() + [12]), ()) for length in n]


def test_the_merged_decoder_computes_the_trained_function_and_leaves_the_base_bit_exact():
    """Decoding folds the LoRA into working weights; training applies it on the fly. Each
    greedy answer's log-probability must be what the training forward pass gives it."""
    from test_search import fresh_logprob

    model = tiny_gemma(seed=2)
    base = weights_checksum(model)
    lean = LeanLM(model, LoraConfig(rank=4, alpha=8), seed=3)
    with torch.no_grad():
        for p in lean.trainable():
            p.normal_(0, 0.2)
    prompts = answer_prompts([11, 11, 23, 7])
    answers = generate(lean, prompts, torch.device("cpu"), max_new_tokens=60)
    assert all(tokens for tokens, _ in answers)
    for prompt, (tokens, logprob) in zip(prompts, answers):
        assert logprob == pytest.approx(fresh_logprob(lean, prompt, tokens), abs=1e-3)
    assert weights_checksum(model) == base


@pytest.mark.parametrize("name", ["llama", "gemma3"])
def test_a_batch_of_different_length_prompts_decodes_exactly_as_one_at_a_time(name):
    lean = LeanLM(models()[name], None)
    prompts = answer_prompts([5, 9, 9, 20, 31])  # the gemma window is 8: decoding crosses it
    together = generate(lean, prompts, torch.device("cpu"), max_new_tokens=50)
    alone = [generate(lean, [p], torch.device("cpu"), max_new_tokens=50)[0] for p in prompts]
    assert [t for t, _ in together] == [t for t, _ in alone]
    assert np.allclose([lp for _, lp in together], [lp for _, lp in alone], atol=1e-4)


def test_lean_decoding_matches_transformers_step_by_step():
    model = tiny_gemma(seed=4)
    prompts = answer_prompts([13, 13, 20])  # left-padded in transformers, gap-masked in the lean decoder
    lean = generate(LeanLM(model, None), prompts, torch.device("cpu"), max_new_tokens=40)
    hf = generate(HfLM(model, None), prompts, torch.device("cpu"), max_new_tokens=40)
    assert [t for t, _ in lean] == [t for t, _ in hf]
    assert np.allclose([lp for _, lp in lean], [lp for _, lp in hf], atol=1e-3)


def test_reset_restores_the_fresh_adapter_and_clears_gradients():
    lean = LeanLM(tiny_gemma(), LoraConfig(rank=4, alpha=8))
    ids = random_ids(10)
    with torch.no_grad():
        fresh = lean(ids)
    samples = [Encoded(tuple(random_ids(10, seed=s)[0].tolist()), (True,) * 10) for s in range(4)]
    config = TrainConfig(steps=5, lr=1e-2, warmup=0.0)
    train(lean, samples, config, np.random.default_rng(0), torch.device("cpu"), pad=PAD)
    lean.trainable()[0].grad = torch.ones_like(lean.trainable()[0])  # as a failed step would leave it
    with torch.no_grad():
        assert not torch.allclose(lean(ids), fresh)
    lean.reset()
    assert all(p.grad is None for p in lean.trainable())
    with torch.no_grad():
        assert torch.equal(lean(ids), fresh)


def test_saved_adapter_loads_back_and_peft_reads_it(tmp_path):
    model = tiny_gemma()
    lean = LeanLM(model, LoraConfig(rank=4, alpha=8))
    with torch.no_grad():
        for p in lean.trainable():
            p.normal_(0, 0.1)
    lean.save(tmp_path / "a")
    other = LeanLM(model, LoraConfig(rank=4, alpha=8), seed=9)
    other.load(tmp_path / "a")
    ids = random_ids(12)
    with torch.no_grad():
        assert torch.equal(other(ids), lean(ids))
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(tiny_gemma(), str(tmp_path / "a"))
        torch.testing.assert_close(peft_model(input_ids=ids).logits.float(), lean(ids), atol=2e-4, rtol=1e-4)


def test_guessing_from_a_draft_gives_the_same_answers_as_plain_greedy_decoding():
    """Drafts that are right, half right and wrong: the answers never change, only the step count."""
    model = tiny_gemma(seed=5)
    lean = LeanLM(model, LoraConfig(rank=4, alpha=8), seed=3)
    with torch.no_grad():
        for p in lean.trainable():
            p.normal_(0, 0.2)
    prompts = answer_prompts([11, 11, 23, 7, 30])
    plain = generate(lean, prompts, torch.device("cpu"), max_new_tokens=80)
    right = [list(tokens) for tokens, _ in plain]
    half = [t[: len(t) // 2] + [1] * 10 for t in right]
    wrong = [[(x + 1) % 10 for x in t] for t in right]
    for drafts in (right, half, wrong):
        guessed = generate(lean, prompts, torch.device("cpu"), max_new_tokens=80, drafts=drafts, speculate=6)
        assert [t for t, _ in guessed] == [t for t, _ in plain]
        assert np.allclose([lp for _, lp in guessed], [lp for _, lp in plain], atol=1e-3)


def test_right_guesses_take_fewer_steps():
    lean = LeanLM(tiny_gemma(seed=5), None)
    prompts = answer_prompts([11, 15])
    plain = generate(lean, prompts, torch.device("cpu"), max_new_tokens=80)
    steps = []
    original = type(lean.decoder()).step

    def counting(self, tokens):
        steps.append(tokens.shape)
        return original(self, tokens)

    import arcttt.engine.decoder

    arcttt.engine.decoder.Decoder.step = counting
    try:
        generate(lean, prompts, torch.device("cpu"), max_new_tokens=80, drafts=[list(t) for t, _ in plain], speculate=8)
    finally:
        arcttt.engine.decoder.Decoder.step = original
    longest = max(len(t) for t, _ in plain)
    assert len(steps) < longest / 3
