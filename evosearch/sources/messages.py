"""What the JSON chat readers (Claude, Telegram, Discord) share: reading a message list, time order."""

from __future__ import annotations

from collections.abc import Callable

from .base import Unit


def read_messages(
    messages: list,
    message_unit: Callable[[object, int], Unit | None],
    malformed: type[Exception],
    where: str,
    warn: Callable[[str], None],
) -> list[Unit]:
    """The units of a message list; messages raising `malformed` are skipped, with one warning line for all of them."""
    units: list[Unit] = []
    problems: list[str] = []
    for number, message in enumerate(messages, start=1):
        try:
            unit = message_unit(message, number)
        except malformed as e:
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
