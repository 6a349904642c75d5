"""The phrase table with a fixed reference time, and properties over random reference times."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.errors import QueryError
from evosearch.timephrases import MONTHS, parse_time_intent, parse_when

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=BERLIN)  # a Wednesday


def day(y, m, d, tz=BERLIN):
    return datetime(y, m, d, tzinfo=tz)


@pytest.mark.parametrize(
    "query, phrase, start, end",
    [
        ("what did I decide last week", "last week", day(2026, 11, 9), day(2026, 11, 16)),
        ("notes from yesterday", "yesterday", day(2026, 11, 17), day(2026, 11, 18)),
        ("plans in March", "in March", day(2026, 3, 1), day(2026, 4, 1)),
        ("what happened in march 2025", "in march 2025", day(2025, 3, 1), day(2025, 4, 1)),
        ("changes since Monday", "since Monday", day(2026, 11, 16), None),
        ("what did Jo say two days ago", "two days ago", day(2026, 11, 16), day(2026, 11, 17)),
        ("budget last year", "last year", day(2025, 1, 1), day(2026, 1, 1)),
        ("trips over the summer", "over the summer", day(2026, 6, 1), day(2026, 9, 1)),
        ("what I wrote in 2025", "in 2025", day(2025, 1, 1), day(2026, 1, 1)),
        ("the call on Tuesday", "on Tuesday", day(2026, 11, 17), day(2026, 11, 18)),
        ("since March 3", "since March 3", day(2026, 3, 3), None),
        ("before 2026-05-01", "before 2026-05-01", None, day(2026, 5, 1)),
        ("after 2026-05-01", "after 2026-05-01", day(2026, 5, 2), None),
        ("on May 5", "on May 5", day(2026, 5, 5), day(2026, 5, 6)),
        ("last weekend", "last weekend", day(2026, 11, 14), day(2026, 11, 16)),
        ("a week ago", "a week ago", day(2026, 11, 9), day(2026, 11, 16)),
        ("in the winter", "in the winter", day(2025, 12, 1), day(2026, 3, 1)),
    ],
)
def test_phrase_table(query, phrase, start, end):
    intent = parse_time_intent(query, NOW)
    assert intent.window is not None
    assert (intent.window.phrase, intent.window.start, intent.window.end) == (phrase, start, end)
    assert phrase not in intent.rest


@pytest.mark.parametrize(
    "query, start",
    [("anything in the past two weeks", NOW - timedelta(weeks=2)), ("what came up recently", NOW - timedelta(days=14))],
)
def test_rolling_windows_end_now(query, start):
    window = parse_time_intent(query, NOW).window
    assert window.start == start and window.end > NOW and window.end - NOW < timedelta(minutes=1)


@pytest.mark.parametrize(
    "query, order",
    [("the latest launch date", "newest"), ("what is the plan currently", "newest"), ("what was originally planned", "oldest"), ("the first vendor we picked", "oldest")],
)
def test_order_words(query, order):
    intent = parse_time_intent(query, NOW)
    assert intent.order == order and intent.window is None


@pytest.mark.parametrize(
    "query",
    ["may I use the new plan", "what did we decide about the march", "since we moved it", "after the launch", "the second vendor", "When did Caroline go to the support group?"],
)
def test_ordinary_sentences_have_no_window(query):
    intent = parse_time_intent(query, NOW)
    assert intent.window is None and intent.rest == query


zones = st.sampled_from([timezone.utc, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")])
nows = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31)),
    zones,
)
SETTINGS = settings(max_examples=80, deadline=None)


@SETTINGS
@given(nows)
def test_yesterday_is_the_previous_calendar_day(now):
    w = parse_time_intent("what did I do yesterday", now).window
    assert w.end.date() == now.date() and w.end.time().hour == 0
    assert w.start.date() == now.date() - timedelta(days=1)


@SETTINGS
@given(nows)
def test_last_week_is_the_previous_monday_to_monday(now):
    w = parse_time_intent("decisions last week", now).window
    assert w.start.weekday() == 0 and w.start.hour == 0
    assert (w.end.date() - w.start.date()).days == 7
    assert w.end <= now and w.end.weekday() == 0 and now - w.end < timedelta(days=7)


@SETTINGS
@given(nows, st.integers(1, 60))
def test_n_days_ago_is_that_calendar_day(now, n):
    w = parse_time_intent(f"what happened {n} days ago", now).window
    assert w.start.date() == now.date() - timedelta(days=n)
    assert (w.end.date() - w.start.date()).days == 1


@SETTINGS
@given(nows, st.sampled_from(MONTHS))
def test_in_month_is_the_latest_such_month_that_has_started(now, month):
    w = parse_time_intent(f"plans in {month.capitalize()}", now).window
    assert w.start.day == 1 and w.start <= now and w.start.month == MONTHS.index(month) + 1
    assert w.end.day == 1 and (w.end.month - w.start.month) % 12 == 1
    assert now - w.start < timedelta(days=366)


@SETTINGS
@given(nows)
def test_last_year_is_the_previous_calendar_year(now):
    w = parse_time_intent("what did I read last year", now).window
    assert (w.start.year, w.start.month, w.start.day) == (now.year - 1, 1, 1)
    assert (w.end.year, w.end.month, w.end.day) == (now.year, 1, 1)


@SETTINGS
@given(nows, st.sampled_from(["yesterday", "last week", "last month", "this week", "in the past 3 days", "2 weeks ago", "since Monday", "over the summer", "in June", "last Friday", "recently"]))
def test_every_window_is_well_formed(now, phrase):
    w = parse_time_intent(f"notes {phrase} about the shed", now).window
    assert w is not None
    assert w.start is None or w.start <= now
    assert w.start is None or w.end is None or w.start < w.end
    assert w.start is None or w.start.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), nows)
def test_any_text_never_raises(text, now):
    intent = parse_time_intent(text, now)
    assert isinstance(intent.rest, str)
    if intent.window is None:
        assert intent.rest == " ".join(text.split())


@SETTINGS
@given(st.lists(st.sampled_from(["plan", "shed", "launch", "vendor", "roof", "we", "decided", "moved", "budget", "why"]), min_size=1, max_size=8))
def test_queries_without_time_words_are_plain_search(words):
    query = " ".join(words)
    intent = parse_time_intent(query, NOW)
    assert intent.window is None and intent.order is None and intent.rest == query


def test_parse_when_iso_and_phrases():
    assert parse_when("2026-03-01", NOW) == day(2026, 3, 1)
    assert parse_when("2026-03-01", NOW, end_of_period=True) == day(2026, 3, 2)
    assert parse_when("2026-03-01T10:00", NOW) == datetime(2026, 3, 1, 10, tzinfo=BERLIN)
    assert parse_when("2026-03-01 10:00+02:00", NOW).utcoffset() == timedelta(hours=2)
    assert parse_when("yesterday", NOW) == day(2026, 11, 17)
    assert parse_when("yesterday", NOW, end_of_period=True) == day(2026, 11, 18)
    assert parse_when("last week", NOW, end_of_period=True) == day(2026, 11, 16)
    assert parse_when("3 days ago", NOW) == day(2026, 11, 15)
    assert parse_when("March 2026", NOW) == day(2026, 3, 1)
    assert parse_when("March 2026", NOW, end_of_period=True) == day(2026, 4, 1)


@pytest.mark.parametrize("garbage", ["the day the music died", "", "soon-ish", "2026-13-45"])
def test_parse_when_rejects_garbage_with_a_hint(garbage):
    with pytest.raises(QueryError) as e:
        parse_when(garbage, NOW)
    assert "cannot read" in e.value.message and e.value.hint
