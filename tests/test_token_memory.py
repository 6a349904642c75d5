"""Token-level memory fusion (evosearch/encoder/token_memory.py) on the real MiniLM, tiny inputs."""

import pytest

pytestmark = pytest.mark.model

TEXTS = ["We moved the launch to Thursday.", "Ana: it broke again\nBen: roll it back", "The shed roof will be green. It was Maya's idea."]


@pytest.fixture(scope="module")
def parts():
    import torch

    from evosearch.encoder.common import base_model_dir, load_tokenizer, pad_rows
    from evosearch.encoder.token_memory import TokenMemory, TokenMemoryConfig
    from evosearch.encoder.bert import load_bert

    torch.manual_seed(0)
    tokenizer = load_tokenizer(256)

    def batch(texts):
        ids, mask = pad_rows(tokenizer.encode_batch(texts))
        return torch.from_numpy(ids), torch.from_numpy(mask)

    model = TokenMemory(load_bert(base_model_dir()), TokenMemoryConfig(queue_tokens=8, latent_tokens=4, lora_rank=0)).eval()
    return model, batch


def test_empty_queue_is_static_minilm(parts):
    """A stream's first segment and every query read exactly what plain MiniLM (mean pooled) reads."""
    import numpy as np
    import torch

    from evosearch.encoder.minilm import load_torch_encoder

    model, batch = parts
    static = load_torch_encoder("cpu").encode_queries(TEXTS)
    with torch.no_grad():
        got, queue = model(*batch(TEXTS), model.empty_queue(len(TEXTS)))
    np.testing.assert_allclose(got.numpy(), static, atol=1e-5)
    assert bool((queue[:, -4:].abs().sum(-1) > 0).all()) and bool((queue[:, :-4] == 0).all())  # latents pushed, oldest slots still empty


def test_memory_changes_a_segment_and_is_batch_independent(parts):
    """With something in the queue the vector changes; and a segment's vector and queue do not depend on
    what else (of other lengths) shares its batch."""
    import torch

    model, batch = parts
    with torch.no_grad():
        _, queue = model(*batch(TEXTS[:1]), model.empty_queue(1))  # (1, Q, D) after one segment
        alone, alone_queue = model(*batch(TEXTS[1:2]), queue)
        empty, _ = model(*batch(TEXTS[1:2]), model.empty_queue(1))
        mixed_queue = torch.cat([queue, model.empty_queue(2)])
        together, together_queue = model(*batch([TEXTS[1], TEXTS[2], "ok"]), mixed_queue)
    assert float((alone @ empty.T).squeeze()) < 0.9999  # the memory is read
    torch.testing.assert_close(together[:1], alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(together_queue[:1], alone_queue, atol=1e-5, rtol=0)


def test_merged_lora_equals_adapted_model(parts):
    """What training runs (peft adapters) and what ships (updates merged into the weights) give the same vectors."""
    import torch

    peft = pytest.importorskip("peft")
    from evosearch.encoder.bert import load_bert
    from evosearch.encoder.common import base_model_dir
    from evosearch.encoder.token_memory import TokenMemory, TokenMemoryConfig, lora_state, memory_state, merge_lora

    _, batch = parts
    config = TokenMemoryConfig(queue_tokens=8, latent_tokens=4, lora_rank=4)
    adapted = peft.inject_adapter_in_model(
        peft.LoraConfig(r=4, lora_alpha=8, target_modules=list(config.lora_targets)), load_bert(base_model_dir())
    )
    for name, p in adapted.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.02)  # peft starts B at zero; make the update real
    trained = TokenMemory(adapted, config).eval()
    shipped = load_bert(base_model_dir())
    merge_lora(shipped, lora_state(adapted))
    plain = TokenMemory(shipped, config).eval()
    plain.load_state_dict(memory_state(trained), strict=False)
    with torch.no_grad():
        _, queue = trained(*batch(TEXTS[:1]), trained.empty_queue(1))
        a, qa = trained(*batch(TEXTS[1:2]), queue)
        b, qb = plain(*batch(TEXTS[1:2]), queue)
        static, _ = plain(*batch(TEXTS[1:2]), plain.empty_queue(1))
    torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    torch.testing.assert_close(qa, qb, atol=1e-3, rtol=0)
    assert float((a @ static.T).squeeze()) < 0.9999
