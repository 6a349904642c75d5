"""`pip install .` (a wheel, not an editable install) carries the bundled model and runs.

The wheel is built from this checkout and installed --no-deps into a fresh venv whose only other
packages are this test environment's, reached through a .pth file (installing torch and the rest
again would take minutes and the registry). So this proves what the wheel holds and that an
installed evosearch finds its model/ without the source tree; it does not prove the dependency
metadata resolves on a clean machine (CI's bootstrap does that).
"""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_the_model_and_indexes_and_answers(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("evosearch-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    env = {**os.environ, "EVOSEARCH_HOME": str(tmp_path / "home"), "PYTHONPATH": ""}
    run = lambda *args: subprocess.run([str(python), *args], cwd=tmp_path, env=env, capture_output=True, text=True)  # noqa: E731
    where = run("-c", "import evosearch, evosearch.encoder.common as c; print(evosearch.__file__); print(c.MODEL_DIR)")
    package, model = where.stdout.split()
    assert package.startswith(str(site)), where  # the installed wheel, not this checkout
    assert Path(model).is_relative_to(site) and (Path(model) / "config.json").exists() and (Path(model) / "evo-1" / "memory.safetensors").exists()

    indexed = run("-m", "evosearch", "index", str(ROOT / "examples"), "-q")
    assert indexed.returncode == 0, indexed.stderr
    answer = run("-m", "evosearch", "ask", "which database for the pantry app", "--now", "2026-11-20", "-n", "1")
    assert answer.returncode == 0 and "pantry" in answer.stdout.lower(), answer.stderr
