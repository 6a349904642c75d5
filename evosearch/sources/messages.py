"""What the chat readers share: the malformed-input error, reading a message list, time order, export names,
how a warning names a conversation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import Unit


class Malformed(ValueError):
    """A conversation, message or line that does not have its export's shape; its text says what is wrong."""


def export_name(path: Path) -> str:
    """The file's stem; inside a zip ("<zip>!<member>") the member's."""
    return Path(path.name.rsplit("!", 1)[-1]).stem or path.stem


def name_note(conversation: object, key: str) -> str:
    """' (NAME)' for a warning about a conversation whose key holds a name; '' when it holds none."""
    name = conversation.get(key) if isinstance(conversation, dict) else None
    return f" ({name!r})" if isinstance(name, str) and name else ""


def read_messages(
    messages: list,
    message_unit: Callable[[object, int], Unit | None],
    where: str,
    warn: Callable[[str], None],
) -> list[Unit]:
    """The units of a message list; messages raising `Malformed` are skipped, with one warning line for all of them."""
    units: list[Unit] = []
    problems: list[str] = []
    for number, message in enumerate(messages, start=1):
        try:
            unit = message_unit(message, number)
        except Malformed as e:
            problems.append(f"message {number}: {e}")
            continue
        if unit is not None:
            units.append(unit)
    if problems:
        warn(f"{where}: {len(problems)} malformed message{'' if len(problems) == 1 else 's'} skipped ({problems[0]})")
    return units


def in_time_order(units: list[Unit]) -> list[Unit]:
    """Stable sort by time; an undated message stays right after the message before it."""
    keys, previous = [], None
    for unit in units:
        previous = unit.time or previous
        keys.append(previous.timestamp() if previous else float("-inf"))
    return [units[i] for i in sorted(range(len(units)), key=keys.__getitem__)]
