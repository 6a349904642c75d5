"""iter_source_files: which files a folder contributes, in what order, and what is warned about."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evosearch.sources.walk import iter_source_files


def make(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


def walk(*paths: Path) -> tuple[list[str], list[str]]:
    """Found files relative to the first path, and the warnings."""
    warnings: list[str] = []
    found = iter_source_files(list(paths), warnings.append)
    base = paths[0].resolve()
    return [p.relative_to(base).as_posix() if p.is_relative_to(base) else str(p) for p in found], warnings


def test_sorted_and_only_candidate_suffixes(tmp_path):
    make(tmp_path, "b.md", "a.TXT", "c/z.org", "c/a.rst", "d.jsonl", "e.json", "f.ndjson", "g.markdown")
    make(tmp_path, "photo.jpg", "paper.pdf", "paper.docx", "script.py", "Makefile", "notes.db", "chat.db")
    found, warnings = walk(tmp_path)
    assert found == ["a.TXT", "b.md", "c/a.rst", "c/z.org", "chat.db", "d.jsonl", "e.json", "f.ndjson", "g.markdown", "paper.docx", "paper.pdf"]
    assert warnings == []  # images and code are passed over quietly
    assert all(Path(tmp_path / p).is_absolute() for p in found)


def test_hidden_and_tool_folders_are_skipped(tmp_path):
    make(tmp_path, "keep.md", ".hidden.md", ".obsidian/workspace.json", ".git/HEAD.md")
    make(tmp_path, "node_modules/pkg/README.md", "__pycache__/x.txt", "sub/.secret/n.md", "sub/ok.md")
    assert walk(tmp_path)[0] == ["keep.md", "sub/ok.md"]


def test_gitignore_patterns_nested_and_negated(tmp_path):
    make(tmp_path, "notes/a.md", "notes/draft-1.md", "notes/draft-keep.md", "build/out.md", "logs/today.txt")
    make(tmp_path, "projects/x/readme.md", "projects/x/tmp/t.md", "projects/y/tmp/t.md", "top.md", "projects/top.md")
    (tmp_path / ".gitignore").write_text("# comments are fine\nbuild/\ndraft-*.md\n!draft-keep.md\n/top.md\nlogs\n")
    # A nested ignore file: patterns are relative to its own folder.
    (tmp_path / "projects" / "x" / ".gitignore").write_text("tmp/\n")
    found, _ = walk(tmp_path)
    assert found == [
        "notes/a.md",
        "notes/draft-keep.md",
        "projects/top.md",  # "/top.md" is anchored to the root
        "projects/x/readme.md",
        "projects/y/tmp/t.md",  # x's .gitignore does not reach y
    ]


def test_evosearchignore_overrides_gitignore_and_nested_file_overrides_parent(tmp_path):
    make(tmp_path, "private/diary.md", "private/public.md", "vendor/doc.md", "a/b/keep.log.md", "a/b/other.md")
    (tmp_path / ".gitignore").write_text("vendor/\n")
    (tmp_path / ".evosearchignore").write_text("private/*\n!private/public.md\n!vendor/\n*.log.md\n")
    (tmp_path / "a" / ".evosearchignore").write_text("!b/keep.log.md\n")
    assert walk(tmp_path)[0] == ["a/b/keep.log.md", "a/b/other.md", "private/public.md", "vendor/doc.md"]


def test_ignore_files_in_the_walked_root_apply_to_a_subfolder_root(tmp_path):
    make(tmp_path, "sub/a.md", "sub/skip.md")
    (tmp_path / "sub" / ".gitignore").write_text("skip.md\n")
    assert walk(tmp_path / "sub")[0] == ["a.md"]


def test_explicit_files_are_always_yielded(tmp_path):
    make(tmp_path, "data/chat.log", "data/.hidden.md", "data/ignored.md")
    (tmp_path / "data" / ".gitignore").write_text("ignored.md\n")
    files = [tmp_path / "data" / n for n in ("chat.log", ".hidden.md", "ignored.md")]
    warnings: list[str] = []
    assert list(iter_source_files(files, warnings.append)) == files
    assert warnings == []


def test_each_file_once_across_overlapping_paths(tmp_path):
    make(tmp_path, "a.md", "sub/b.md")
    found, _ = walk(tmp_path, tmp_path / "sub", tmp_path / "a.md")
    assert found == ["a.md", "sub/b.md"]


def test_missing_path_is_warned_and_the_rest_still_walked(tmp_path):
    make(tmp_path, "real/a.md")
    missing = tmp_path / "nope"
    found, warnings = walk(tmp_path / "real", missing)
    assert found == ["a.md"]
    assert warnings == [f"{missing}: does not exist — check the path and permissions"]


def test_relative_paths_are_made_absolute(tmp_path, monkeypatch):
    make(tmp_path, "n/a.md")
    monkeypatch.chdir(tmp_path)
    found = list(iter_source_files([Path("n")], print))
    assert found == [tmp_path.resolve() / "n" / "a.md"]


def test_symlinked_folders_are_not_followed(tmp_path):
    make(tmp_path, "notes/a.md")
    os.symlink(tmp_path / "notes", tmp_path / "notes" / "loop")
    os.symlink(tmp_path / "notes" / "a.md", tmp_path / "notes" / "alias.md")
    found, warnings = walk(tmp_path)
    assert found == ["notes/a.md"]  # the file link resolves to a file already yielded
    assert warnings == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can list any folder")
def test_unlistable_folder_is_warned(tmp_path):
    make(tmp_path, "ok.md", "locked/x.md")
    (tmp_path / "locked").chmod(0)
    try:
        found, warnings = walk(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert found == ["ok.md"]
    assert len(warnings) == 1 and warnings[0].startswith(f"{tmp_path / 'locked'}: cannot be read (")


def test_unlistable_folder_is_warned_even_as_root(tmp_path, monkeypatch):
    make(tmp_path, "ok.md", "locked/x.md")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found, warnings = walk(tmp_path)
    assert found == ["ok.md"]
    assert warnings == [f"{tmp_path / 'locked'}: cannot be read (Permission denied) — check the path and permissions"]


def test_a_file_link_is_yielded_under_its_own_path(tmp_path):
    """Issue 17, item 8: a link used to be yielded as its target, outside the folder, so its rows
    were never removed when the link went."""
    make(tmp_path, "elsewhere/shared.md", "notes/a.md")
    os.symlink(tmp_path / "elsewhere" / "shared.md", tmp_path / "notes" / "linked.md")
    found, warnings = walk(tmp_path / "notes")
    assert found == ["a.md", "linked.md"] and warnings == []


def test_a_file_link_given_by_name_keeps_its_name(tmp_path):
    make(tmp_path, "elsewhere/shared.md")
    os.symlink(tmp_path / "elsewhere" / "shared.md", tmp_path / "linked.md")
    assert list(iter_source_files([tmp_path / "linked.md"], print)) == [tmp_path.resolve() / "linked.md"]


def test_special_files_get_one_warning_each_and_are_never_opened(tmp_path):
    import socket
    import threading

    make(tmp_path, "ok.md")
    os.mkfifo(tmp_path / "pipe.md")
    os.symlink(tmp_path / "loop.md", tmp_path / "loop.md")
    os.symlink(tmp_path / "gone.md", tmp_path / "broken.md")
    os.mkfifo(tmp_path / "pipe")  # no source suffix: passed over quietly, like any such file
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "chat.sock.txt"))
    result = {}
    worker = threading.Thread(target=lambda: result.update(zip(("found", "warnings"), walk(tmp_path))), daemon=True)
    worker.start()
    worker.join(timeout=30)
    server.close()
    assert not worker.is_alive(), "the walk hung"
    assert result["found"] == ["ok.md"]
    root = tmp_path.resolve()
    assert sorted(result["warnings"]) == [
        f"{root / 'broken.md'}: not a regular file (a broken link) — skipped",
        f"{root / 'chat.sock.txt'}: not a regular file (a socket) — skipped",
        f"{root / 'loop.md'}: not a regular file (a symlink loop) — skipped",
        f"{root / 'pipe.md'}: not a regular file (a FIFO) — skipped",
    ]


def test_a_fifo_where_a_file_was_is_refused_without_blocking(tmp_path):
    from evosearch.errors import SourceError
    from evosearch.sources.detect import read_source

    import threading

    os.mkfifo(tmp_path / "pipe.md")
    errors = []

    def read():
        try:
            read_source(tmp_path / "pipe.md", print)  # opened plainly, this waits for a writer
        except SourceError as e:
            errors.append(e.message)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():
        with open(tmp_path / "pipe.md", "wb"):  # release the blocked reader
            pass
        pytest.fail("reading a FIFO blocked")
    assert errors == [f"{tmp_path.resolve() / 'pipe.md'}: not a regular file (a FIFO)"]
