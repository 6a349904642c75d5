import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("generate_completions", ROOT / "scripts" / "generate_completions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_completions_are_current():
    for name, text in _generator().completion_scripts().items():
        committed = ROOT / "completions" / name
        assert committed.read_text() == text, f"{committed} is stale: run scripts/generate_completions.py"


def test_completion_answers_without_importing_torch_or_lancedb():
    code = (
        "import sys\n"
        "from evosearch.cli.app import main\n"
        "sys.argv = ['evosearch']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('torch', 'lancedb', 'transformers') if m in sys.modules])\n"
    )
    env = {**os.environ, "_EVOSEARCH_COMPLETE": "complete_bash", "COMP_WORDS": "evosearch as", "COMP_CWORD": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout
    assert "ask" in out.split()
    assert "HEAVY []" in out
