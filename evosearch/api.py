"""The Python API: open an index for writing or searching with the matching encoder.

from evosearch.api import open_index
store, encoder = open_index()
answer = evosearch.search.ask(store, encoder, "what did I decide last week")
"""

from __future__ import annotations

import os
from pathlib import Path

from .config import db_uri
from .encoder import Encoder, chosen_model, context_turns, load_encoder, load_query_encoder, model_name
from .errors import StoreError
from .heap import limit_malloc_arenas
from .store import IndexReader, Store, open_for_search


def _indexed_model(uri: str) -> str | None:
    """The model id stored in the index at uri, or None where there is no index yet."""
    try:
        return open_for_search(uri).model_id
    except StoreError:
        return None


def _other_model(uri: str, indexed: str, asked: str) -> StoreError:
    return StoreError(
        f"the index at {uri} was built with {model_name(indexed)} ({indexed}), not {asked}",
        f"run `evosearch index --rebuild --model {asked} PATH` to re-encode it with {asked}, or leave out --model",
    )


def _other_encoder(uri: str, indexed: str, current: str) -> StoreError:
    """The refusal for an index written by another encoder of the same base model; where a bundled
    model wrote it, the hint names the variable that picks it again."""
    from .encoder.common import MODEL_ENV, bundled_model_for

    bundled = bundled_model_for(indexed)
    again = f"set {MODEL_ENV}={bundled} as when it was built, or " if bundled else ""
    return StoreError(
        f"the index at {uri} was built with encoder {indexed}, but the current one is {current}",
        f"{again}run `evosearch index --rebuild PATH` to re-encode it with the current one",
    )


def _own_model(indexed: str | None) -> Path | None:
    """The bundled MiniLM model folder that wrote an index, where the user chose none ($EVOSEARCH_MODEL):
    an index built without memory, or before the default changed, keeps its own encoder, so its
    vectors stay comparable, until `index --rebuild` re-encodes it with the default."""
    from .encoder.common import MODEL_ENV, bundled_folder_for

    if not indexed or os.environ.get(MODEL_ENV) or model_name(indexed) != "minilm":
        return None
    return bundled_folder_for(indexed)


def index_model_folder(db: str | None = None) -> Path | None:
    """The bundled MiniLM model folder that wrote the index at db (default: the user's), where the
    user chose none: what `train` trains when the person switched the memory on for their index.
    An e5-small index is refused: its passages are read alone, with nothing to train."""
    uri = db_uri(db)
    indexed = _indexed_model(uri)
    if indexed and model_name(indexed) == "e5-small":
        raise StoreError(
            f"the index at {uri} is built with e5-small, whose passages have no memory to train",
            "`train` fits MiniLM's memory: pass --db for a MiniLM index, or rebuild this one with `evosearch index --rebuild --model minilm PATH`",
        )
    return _own_model(indexed)


def open_index(
    db: str | None = None, *, write: bool = False, rebuild: bool = False, command: str = "api", model: str | None = None
) -> tuple[Store | IndexReader, Encoder]:
    """(store, encoder) for the index at db (default: the user's). The base model is the index's:
    `model` (a name in encoder.MODELS) picks it for a new index or a rebuild, and is refused for an
    index built with another. write=True creates the index if missing and takes its writer lock
    (LockedError if another writer holds it) until store.close() or the process ends; `command`
    names this writer in that refusal. Without write the store is a read-only view for searching,
    which needs no lock."""
    uri = db_uri(db)
    asked = chosen_model(model) if model else None
    if write or rebuild:
        indexed = _indexed_model(uri)
        if asked and indexed and not rebuild and model_name(indexed) != asked:
            raise _other_model(uri, indexed, asked)  # before a model is loaded
        limit_malloc_arenas()  # before the encoder's and LanceDB's threads start
        encoder = load_encoder(asked or (model_name(indexed) if indexed else None), None if rebuild else _own_model(indexed))
        if indexed and not rebuild and indexed != encoder.model_id:
            raise _other_encoder(uri, indexed, encoder.model_id)
        store = Store.open(
            uri,
            model_id=encoder.model_id,
            dim=encoder.dim,
            memory_shape=(encoder.memory_slots, encoder.dim),
            context=context_turns(encoder) > 0,
            rebuild=rebuild,
            command=command,
        )
        return store, encoder
    store = open_for_search(uri)
    if asked and model_name(store.model_id) != asked:
        raise _other_model(uri, store.model_id, asked)
    encoder = load_query_encoder(model_name(store.model_id), _own_model(store.model_id))  # searching only embeds queries
    if store.model_id != encoder.model_id:
        raise _other_encoder(uri, store.model_id, encoder.model_id)
    return store, encoder


def forget(paths: list[Path], db: str | None = None) -> int:
    """Remove the sources at paths (files, or everything under folders) and their vectors from the
    index at db, under its writer lock; the number of sources removed (see indexer.forget_paths)."""
    from .indexer import forget_paths

    with Store.open(db_uri(db), write=True, command="forget") as store:
        return forget_paths(store, paths)
