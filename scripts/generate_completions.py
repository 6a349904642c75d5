"""Write the shell completion scripts in completions/ from the Typer app.

    .venv/bin/python scripts/generate_completions.py

The scripts call back into `evosearch` with _EVOSEARCH_COMPLETE set, so they stay correct as
commands and options change; they only need regenerating when Typer changes its templates
(tests/test_completions.py fails then).
"""

from __future__ import annotations

import sys
from pathlib import Path

FILES = {"bash": "evosearch.bash", "zsh": "_evosearch", "fish": "evosearch.fish"}


def completion_scripts() -> dict[str, str]:
    from typer._completion_shared import get_completion_script

    return {
        name: get_completion_script(prog_name="evosearch", complete_var="_EVOSEARCH_COMPLETE", shell=shell).rstrip() + "\n"
        for shell, name in FILES.items()
    }


def main(out_dir: Path = Path(__file__).resolve().parent.parent / "completions") -> int:
    out_dir.mkdir(exist_ok=True)
    for name, text in completion_scripts().items():
        (out_dir / name).write_text(text)
        print(f"wrote {out_dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*(Path(a) for a in sys.argv[1:])))
