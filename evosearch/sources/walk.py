"""Which files under the given paths are sources: a deterministic walk honouring ignore files."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pathspec

# In folders only these are read; anything else (images, PDFs, binaries) is passed over quietly.
SOURCE_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".rst", ".org", ".jsonl", ".json", ".ndjson", ".html", ".htm", ".pdf", ".zip", ".csv", ".tsv"}
)
SKIPPED_DIR_NAMES = frozenset({".git", "node_modules", "__pycache__"})
# Beside channels.json, a Slack export's top-level JSON files describe the workspace; messages live in channel folders.
SLACK_METADATA_FILES = frozenset(
    {"users.json", "channels.json", "groups.json", "dms.json", "mpims.json", "integration_logs.json", "canvases.json", "huddles.json"}
)
# Read in this order, so a pattern in .evosearchignore overrides one in .gitignore beside it.
IGNORE_FILE_NAMES = (".gitignore", ".evosearchignore")

# (folder holding the ignore file, its patterns), outermost first
_IgnoreRules = list[tuple[Path, pathspec.GitIgnoreSpec]]


def iter_source_files(paths: list[Path], warn: Callable[[str], None]) -> Iterator[Path]:
    """Resolved paths of the files to read, each once, folders in sorted order.

    A file named in `paths` is always yielded; in folders, hidden entries, ignored entries and
    files without a source suffix are skipped, and symlinked folders are not entered.
    """
    seen: set[Path] = set()
    for given in paths:
        root = Path(os.path.abspath(given))
        try:
            if not root.exists():
                warn(f"{root}: does not exist — check the path and permissions")
                continue
            if root.is_dir():
                found = _walk(root.resolve(), [], warn)
            elif root.is_file():
                found = iter([root.resolve()])
            else:
                warn(f"{root}: cannot be read (not a regular file or folder) — check the path and permissions")
                continue
        except OSError as e:
            warn(f"{root}: cannot be read ({e.strerror or e}) — check the path and permissions")
            continue
        for path in found:
            if path not in seen:
                seen.add(path)
                yield path


def is_source_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in SOURCE_SUFFIXES


def _walk(folder: Path, rules: _IgnoreRules, warn: Callable[[str], None]) -> Iterator[Path]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as e:
        warn(f"{folder}: cannot be read ({e.strerror or e}) — check the path and permissions")
        return
    rules = rules + _ignore_rules_in(folder, entries, warn)
    slack_export = any(e.name == "channels.json" for e in entries)
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIPPED_DIR_NAMES:
            continue
        if slack_export and entry.name in SLACK_METADATA_FILES:
            continue  # names and channel lists, read by the day files' reader; no messages
        path = folder / entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file()  # a symlinked file counts; a symlinked folder does not
        except OSError:
            continue
        if not (is_dir or (is_file and is_source_name(entry.name))) or _is_ignored(path, is_dir, rules):
            continue
        if is_dir:
            yield from _walk(path, rules, warn)
        else:
            yield path.resolve() if entry.is_symlink() else path


def _ignore_rules_in(folder: Path, entries: list[os.DirEntry], warn: Callable[[str], None]) -> _IgnoreRules:
    names = {e.name for e in entries}
    rules: _IgnoreRules = []
    for name in IGNORE_FILE_NAMES:
        if name not in names:
            continue
        try:
            lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as e:
            warn(f"{folder / name}: cannot be read ({e.strerror or e}) — its patterns are not applied")
            continue
        rules.append((folder, pathspec.GitIgnoreSpec.from_lines(lines)))
    return rules


def _is_ignored(path: Path, is_dir: bool, rules: _IgnoreRules) -> bool:
    # As in git: the ignore file nearest the path decides, and within a file the last match wins.
    for base, spec in reversed(rules):
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        verdict = spec.check_file(relative).include
        if verdict is not None:
            return verdict
    return False
