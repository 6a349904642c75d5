"""Where a query's best matches fall in time (`ask --timeline`): counts per week, month or year.

Pure: times in, buckets out, so the CLI draws and the MCP tool returns the same thing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .timephrases import TimeWindow

TIMELINE_MATCHES = 30  # the chart counts at most this many of the ranked matches: the shown results, then
TIMELINE_MIN_SIMILARITY_SHARE = 0.5  # those whose cosine is at least this share of the best one's (the tail of a
# ranking is passages about something else, and would draw the corpus's shape instead of the topic's)
WEEKS_UP_TO_DAYS = 120  # a span up to this many days is drawn per week, up to MONTHS_UP_TO_DAYS per month, else per year
MONTHS_UP_TO_DAYS = 3 * 366
MAX_WINDOW_BUCKETS = 60  # a query's window widens the chart to show it only if the chart stays this short


def _floor(t: datetime, unit: str) -> datetime:
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _next(t: datetime, unit: str) -> datetime:
    if unit == "week":
        return t + timedelta(days=7)
    if unit == "month":
        return t.replace(year=t.year + t.month // 12, month=t.month % 12 + 1)
    return t.replace(year=t.year + 1)


def _label(t: datetime, unit: str) -> str:
    return t.strftime("%Y-%m-%d") if unit == "week" else t.strftime("%Y-%m") if unit == "month" else t.strftime("%Y")


def _unit(first: datetime, last: datetime) -> str:
    days = (last - first).days
    return "week" if days <= WEEKS_UP_TO_DAYS else "month" if days <= MONTHS_UP_TO_DAYS else "year"


def best_matches(ranked: list[dict], limit: int) -> list[dict]:
    """What the chart counts: the `limit` shown results and, after them, the ranked candidates close
    enough to the best (dense cosine `similarity`), TIMELINE_MATCHES at most."""
    best = max((r.get("similarity", 0.0) for r in ranked[:TIMELINE_MATCHES]), default=0.0)
    return [r for i, r in enumerate(ranked[:TIMELINE_MATCHES]) if i < limit or r.get("similarity", 0.0) >= TIMELINE_MIN_SIMILARITY_SHARE * best]


def timeline_buckets(matches: list[datetime | None], shown: list[datetime | None], window: TimeWindow | None, now: datetime) -> dict:
    """Buckets from the first to the last dated match, in `now`'s time zone, each with how many of
    `matches` (the best ranked) and of `shown` (the printed results) fall in it, and whether it
    overlaps the window a time phrase resolved to."""
    tz = now.tzinfo
    dated = [t.astimezone(tz) for t in matches if t is not None]
    result = {"unit": None, "matches": len(matches), "undated": len(matches) - len(dated), "buckets": []}
    if not dated:
        return result
    first, last = min(dated), max(dated)
    unit = _unit(first, last)
    start, end = _floor(first, unit), _floor(last, unit)
    if window is not None and window.start and window.end:  # widen to show the window, if that stays short
        w_start, w_end = _floor(window.start.astimezone(tz), unit), _floor((window.end - timedelta(microseconds=1)).astimezone(tz), unit)
        lo, hi, n = min(start, w_start), max(end, w_end), 0
        t = lo
        while t <= hi and n <= MAX_WINDOW_BUCKETS:
            t, n = _next(t, unit), n + 1
        if n <= MAX_WINDOW_BUCKETS:
            start, end = lo, hi
    shown_dated = [t.astimezone(tz) for t in shown if t is not None]
    t = start
    while t <= end:
        nxt = _next(t, unit)
        in_window = window is not None and (window.start is None or window.start < nxt) and (window.end is None or window.end > t)
        result["buckets"].append(
            {
                "start": t.isoformat(),
                "end": nxt.isoformat(),
                "label": _label(t, unit),
                "matches": sum(t <= m < nxt for m in dated),
                "shown": sum(t <= m < nxt for m in shown_dated),
                "in_window": in_window,
            }
        )
        t = nxt
    result["unit"] = unit
    return result
