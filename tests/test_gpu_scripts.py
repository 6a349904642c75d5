"""The GPU machine's scripts, run on the CPU at a tiny scale: a lent GPU's minutes must not go to a
script that broke here (issue 23: "tested on the CPU at a tiny scale"). The data is made up, in the
shapes scripts/token_memory_data.py writes; the base model is the real MiniLM."""

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[1]
FACTS = [
    ("the shed roof", "It will be green, Maya chose it."),
    ("the launch", "We moved it to Thursday after the review."),
    ("the new puppy", "She named him Biscuit."),
    ("the trip", "We fly to Lisbon on the ninth."),
    ("the book club", "It meets at Ana's place this month."),
    ("the bike", "The back wheel needed a new spoke."),
]


def write_gz(path: Path, records: list[dict]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)


def stream(shift: int) -> tuple[list[str], list[tuple[str, int]]]:
    """Segments that name a subject, then answer in words that do not; a question per answer."""
    segments, asked = [], []
    for k in range(len(FACTS)):
        subject, answer = FACTS[(k + shift) % len(FACTS)]
        segments += [f"Ana: any news about {subject}?\nBen: yes, finally", f"Ben: {answer}\nAna: good to know"]
        asked.append((f"What happened with {subject}?", len(segments) - 1))
    return segments, asked


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("token_memory_data", ROOT / "scripts" / "token_memory_data.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    out = tmp_path_factory.mktemp("gpu-data")
    training = []
    for shift in range(10):
        segments, asked = stream(shift)
        training.append({"source": "synthetic", "segments": segments, "queries": [{"text": q, "evidence": [e]} for q, e in asked]})
    write_gz(out / "train.jsonl.gz", training)
    conversations = []
    for c in range(2):
        segments, asked = stream(c)
        turns = [[f"D{n}:1", f"D{n}:2"] for n in range(len(segments))]
        questions = [{"text": q, "category": 1 + k % 4, "evidence": [turns[e][0]]} for k, (q, e) in enumerate(asked)]
        conversations.append({"id": f"conv-{c}", "segments": segments, "turns": turns, "questions": questions})
    write_gz(out / "locomo.jsonl.gz", conversations)
    script.copy_minilm(out / "minilm")
    return out


def test_train_token_memory_writes_weights_that_load(data, tmp_path):
    """A few seconds of training: it reports its baselines and its before/after figures, and writes the
    config and two weight files (each under the 16 MiB a file may take) that load back into the model."""
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "scripts" / "train_token_memory.py"), str(data), str(out)]
    done = subprocess.run(command + ["--seconds", "3", "--check-seconds", "1", "--streams", "4", "--window", "4", "--burn-in", "2"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    for key in ("locomo_static", "locomo_fixed_rule"):
        assert results[key]["queries"] == 12
    assert results["training"]["steps"] >= 1
    assert set(results["after"]) == {"held_out", "locomo"}
    assert "memory off" in results["after"]["locomo"]
    for name in ("lora.safetensors", "memory.safetensors", "config.json"):
        assert 0 < (out / name).stat().st_size < 16 * 2**20

    import torch
    from safetensors.torch import load_file

    from evosearch.encoder.bert import load_bert
    from evosearch.encoder.common import load_tokenizer, pad_rows
    from evosearch.encoder.token_memory import TokenMemory, TokenMemoryConfig, merge_lora

    lora = load_file(str(out / "lora.safetensors"))
    assert any(k.endswith(".lora_B") and v.abs().max() > 0 for k, v in lora.items()), "LoRA's B starts at zero: no step trained it"
    config = TokenMemoryConfig.from_dict(json.loads((out / "config.json").read_text())["token_memory"])
    bert = load_bert(data / "minilm").float()
    merge_lora(bert, lora)  # as a shipped encoder would read them
    model = TokenMemory(bert, config).eval()
    missing, unexpected = model.load_state_dict(load_file(str(out / "memory.safetensors")), strict=False)
    assert not unexpected and all(k.startswith("bert.") for k in missing)
    tokenizer = load_tokenizer(256)

    def batch(texts):
        return tuple(torch.from_numpy(a) for a in pad_rows(tokenizer.encode_batch(texts)))

    with torch.no_grad():
        _, queue = model(*batch(["Ana: any news about the trip?"]), model.empty_queue(1))
        read, _ = model(*batch(["Ben: We fly to Lisbon on the ninth."]), queue)
        alone, _ = model(*batch(["Ben: We fly to Lisbon on the ninth."]), model.empty_queue(1))
    assert torch.isfinite(read).all() and float((read @ alone.T).squeeze()) < 0.9999  # the trained memory is read


def test_gpu_encoder_check_runs_every_model_through_every_path(data):
    """On a CPU the check has no CUDA to compare, but it walks the same steps: each bundled model is
    picked by load_encoder, encodes the streams through torch and the int8 path, and is scored."""
    command = [sys.executable, str(ROOT / "scripts" / "gpu_encoder_check.py"), str(data), "--streams", "3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    picked = [r for r in lines if "load_encoder picks" in r]
    assert [r["ok"] for r in picked] == [True] * 3
    paths = [r for r in lines if "path" in r]
    assert {(r["model"], r["path"].split()[0]) for r in paths} == {(r["model"], p) for r in picked for p in ("torch", "int8")}
    assert all(r["segments"] == 24 + 3 * 12 and 0 <= r["LoCoMo dense R@10"] <= 100 for r in paths)
    assert all(r["cosine to torch fp32 cpu"]["min"] > 0.98 for r in paths if r["path"].startswith("int8"))
