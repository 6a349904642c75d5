import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own data dir and the instant hashing encoder (tests that need
    the real model ask for it with the `minilm` fixture)."""
    home = tmp_path / "evosearch-home"
    monkeypatch.setenv("EVOSEARCH_HOME", str(home))
    monkeypatch.setenv("EVOSEARCH_ENCODER", "hashing")
    monkeypatch.delenv("EVOSEARCH_DB", raising=False)
    monkeypatch.delenv("EVOSEARCH_NOW", raising=False)
    monkeypatch.delenv("EVOSEARCH_DEBUG", raising=False)
    return home
