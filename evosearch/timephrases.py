"""Time in queries: "last week", "in March", "since Monday" -> a window; "latest", "originally" -> an order.

A small grammar of phrase *shapes* ("since <date>", "<n> <unit>s ago", "last <unit>") finds
the phrase; calendar arithmetic is done here in the reference time's zone; the date inside a
phrase ("since March 3", "before 2026-05-01") is read by dateparser, a maintained parser,
imported only when a query holds such a phrase (it costs half a second to import).

A phrase is time only where it is one: whole tokens (the "2019" of "2019-nCoV" is no year), a
date read whole or not at all ("before December 2019", "between November 2002 and July 2003"),
and order words only where they qualify what is asked for ("the first time I", not "the first
transmembrane domain"). Whatever is taken as time leaves no fragment in the search text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .errors import QueryError


@dataclass(frozen=True)
class TimeWindow:
    start: datetime | None  # inclusive, timezone-aware
    end: datetime | None  # exclusive, timezone-aware
    phrase: str  # the words of the query that produced it
    # A vague phrase ("recently") only boosts the passages inside; a firm one ranks them first.
    firm: bool = True


@dataclass(frozen=True)
class TimeIntent:
    window: TimeWindow | None
    order: str | None  # "newest" or "oldest"
    order_word: str | None
    rest: str  # the query without the time phrase, whitespace normalised


RECENT_DAYS = 14  # "recently", "lately"
_VAGUE = re.compile(r"recently|lately", re.I)  # the vague phrases: their window is a guess at what the asker means
NUMBERS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
NUMBERS.update({"a": 1, "an": 1, "a couple of": 2, "a few": 3, "few": 3, "several": 3})
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": 0, "final": 0}
SEASON_START_MONTH = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # meteorological, northern

_NUM = r"(?P<n>\d{1,3}|a couple of|a few|few|several|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_WEEKDAY = r"(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_YEAR = r"(?:19|20)\d\d"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_MONTH_ANY = _MONTH.replace("?P<month>", "?:")
_WEEKDAY_ANY = _WEEKDAY.replace("?P<weekday>", "?:")
# A written calendar date, read whole: "5 March 2020", "the 5th of March", "March 5, 2020",
# "December 2019", "2026-05-01", "2019". The longest reading is tried first, and the token
# guards below make the regex backtrack from "December 20" to "December 2019".
_CALENDAR_DATE = (
    r"(?:\d{4}-\d{1,2}(?:-\d{1,2})?|\d{1,2}[-/.]\d{1,2}(?:[-/.]\d{2,4})?"
    rf"|(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH_ANY}(?:,?\s+{_YEAR})?"
    rf"|{_MONTH_ANY}\s+{_DAY}(?:,?\s+{_YEAR})?"
    rf"|{_MONTH_ANY}(?:,?\s+{_YEAR})?"
    rf"|{_YEAR})"
)
# A date that stands alone as time without a preposition: day or month, and year.
_FULL_DATE = rf"(?:(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH_ANY},?\s+{_YEAR}|{_MONTH_ANY}\s+{_DAY},?\s+{_YEAR}|{_MONTH_ANY},?\s+{_YEAR})"
# What may follow "since/before/after/until/on": a cheap guard so that "since we moved" never
# reaches the date parser; relative days ("since Monday", "before yesterday") as well as dates.
_DATEISH = rf"(?P<date>{_CALENDAR_DATE}|(?:last\s+)?{_WEEKDAY_ANY}|yesterday|today|last\s+(?:week|month|year))"

# A phrase is time only as whole tokens: "2019" in "2019-nCoV", "COVID-2019" or "2019.5" is part
# of a name, code or number, so a match may neither start nor end inside such a token.
_TOKEN_START = r"(?<![\w'’])(?<!\w[-–—/.])"
_TOKEN_END = r"(?![\w'’])(?![-–—/.:]\w)"
# "As of 5 March 2020" dates the fact asked about, and a record of that fact is written on that
# day or any day after, so the phrase supports no window: it is left whole in the search text.
_NOT_A_WINDOW = re.compile(rf"\bas\s+(?:of|at)\s+{_CALENDAR_DATE}{_TOKEN_END}", re.I)

# Order words that say "when" wherever they stand: none of them describes a thing.
ORDER_PHRASES = [
    (r"latest|newest|most\s+recent(?:ly)?|these\s+days|nowadays|right\s+now|last\s+time", "newest"),
    (r"originally|initially|at\s+first|in\s+the\s+beginning|at\s+the\s+start|first\s+time", "oldest"),
]
# Order words that are also ordinary description ("the first transmembrane domain", "is the
# virus still infectious", "how are cases now counted"): order only where they qualify what
# the asker did or asks for, see _qualifies_asked_thing.
ORDER_IN_CONTEXT = {"first": "oldest", "earliest": "oldest", "still": "newest", "now": "newest", "currently": "newest"}
_SUBJECT_PRONOUNS = {"i", "we", "you", "he", "she", "they"}
_PERSONAL = _SUBJECT_PRONOUNS | {"me", "us", "my", "our", "your", "mine", "ours"}
_NOT_NAMES = {"the", "a", "an", "this", "that", "these", "those", "what", "which", "who", "when", "where", "how", "why", "is", "are"}
# Words, with hyphenated names and codes ("2019-nCoV", "COVID-19") as one token, and punctuation.
_QUERY_TOKEN = re.compile(r"[\w'’]+(?:[-–—/.:][\w'’]+)*|[^\w\s]")
_CLAUSE_END = set("?.!,;:")


def _midnight(d: date, tz) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def _month_start(year: int, month: int, tz) -> datetime:
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return _midnight(date(year, month, 1), tz)


def _number(text: str) -> int:
    text = text.lower()
    return int(text) if text.isdigit() else NUMBERS[text]


def _month_number(text: str) -> int:
    return MONTH_ABBR[text.lower()[:4] if text.lower().startswith("sept") else text.lower()[:3]]


def _calendar_period(unit: str, now: datetime, back: int) -> tuple[datetime, datetime]:
    """The calendar day/week/month/year `back` units before the current one."""
    tz, today = now.tzinfo, now.date()
    if unit == "day":
        start = _midnight(today - timedelta(days=back), tz)
        return start, start + timedelta(days=1)
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=back)
        start = _midnight(monday, tz)
        return start, start + timedelta(weeks=1)
    if unit == "month":
        start = _month_start(today.year, today.month - back, tz)
        return start, _month_start(start.year, start.month + 1, tz)
    start = _midnight(date(today.year - back, 1, 1), tz)
    return start, _midnight(date(today.year - back + 1, 1, 1), tz)


def _rolling(unit: str, n: int, now: datetime) -> datetime:
    if unit == "day":
        return now - timedelta(days=n)
    if unit == "week":
        return now - timedelta(weeks=n)
    if unit == "month":
        start = _month_start(now.year, now.month - n, now.tzinfo)
        return start.replace(day=min(now.day, 28), hour=now.hour, minute=now.minute)
    return now.replace(year=now.year - n, day=min(now.day, 28))


def _season(name: str, now: datetime, ended: bool) -> tuple[datetime, datetime]:
    """The most recent season of that name that has started (or, with ended, that has ended)."""
    first = SEASON_START_MONTH[name]
    for year in range(now.year, now.year - 3, -1):
        start = _month_start(year, first, now.tzinfo)
        end = _month_start(year, first + 3, now.tzinfo)
        if start <= now and (not ended or end <= now):
            return start, end
    raise AssertionError("unreachable: a season starts every year")


def _last_weekday(name: str, now: datetime) -> tuple[datetime, datetime]:
    target = WEEKDAYS.index(name)
    days_back = (now.weekday() - target) % 7 or 7
    start = _midnight(now.date() - timedelta(days=days_back), now.tzinfo)
    return start, start + timedelta(days=1)


def _month_window(month: int, year: int | None, now: datetime) -> tuple[datetime, datetime]:
    if year is None:
        year = now.year if _month_start(now.year, month, now.tzinfo) <= now else now.year - 1
    start = _month_start(year, month, now.tzinfo)
    return start, _month_start(year, month + 1, now.tzinfo)


def _parse_date(text: str, now: datetime) -> tuple[datetime, str] | None:
    """A date phrase read by dateparser, as (datetime in now's zone, granularity: day/month/year)."""
    import dateparser

    text = re.sub(r"^the\s+|(?<=\d)(st|nd|rd|th)\b|\bof\s+", "", text.strip(), flags=re.I)  # "the 5th of March" -> "5 March"
    if re.fullmatch(r"(19|20)\d\d", text):
        return _midnight(date(int(text), 1, 1), now.tzinfo), "year"
    settings = {
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "REQUIRE_PARTS": [],
    }
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    if parsed is None:
        return None
    # A day is a number of one or two digits standing alone (not part of a year) or an ISO day.
    has_day = bool(re.search(r"(?<![\d-])\d{1,2}(?![\d])(?!-\d\d-)|" + _WEEKDAY + r"|yesterday|today|\d{4}-\d\d?-\d\d?", text, re.I))
    has_month = bool(re.search(_MONTH, text, re.I))
    granularity = "day" if has_day or not has_month else "month"
    if re.fullmatch(r"\d{4}-\d{1,2}", text):  # ISO year-month
        granularity = "month"
    if re.fullmatch(r"last\s+(week|month|year)", text, re.I):
        unit = text.split()[-1].lower()
        return _calendar_period(unit, now, 1)[0], unit
    has_clock = re.search(r"\d:\d\d|\b\d{1,2}\s*(am|pm)\b", text, re.I)
    if granularity == "day" and not has_clock:
        parsed = datetime.combine(parsed.date(), time(0))
    return parsed.replace(tzinfo=now.tzinfo), granularity


def _period_end(start: datetime, granularity: str) -> datetime:
    if granularity == "day":
        return start + timedelta(days=1)
    if granularity == "week":
        return start + timedelta(weeks=1)
    if granularity == "month":
        return _month_start(start.year, start.month + 1, start.tzinfo)
    return start.replace(year=start.year + 1)


def _window_rules(now: datetime):
    """(pattern, function(match) -> (start, end) | None), most specific first."""
    tz = now.tzinfo

    def today(m):
        return _calendar_period("day", now, 0)

    def yesterday(m):
        return _calendar_period("day", now, 1)

    def last_period(m):
        return _calendar_period(m["unit"].lower(), now, 1)

    def this_period(m):
        start, end = _calendar_period(m["unit"].lower(), now, 0)
        return start, min(end, now + timedelta(seconds=1))

    def ago(m):
        return _calendar_period(m["unit"].lower(), now, _number(m["n"]))

    def rolling(m):
        n = _number(m["n"]) if m["n"] else 1
        return _rolling(m["unit"].lower(), n, now), now + timedelta(seconds=1)

    def weekend(m):
        saturday = now.date() - timedelta(days=(now.weekday() - 5) % 7 or 7)
        start = _midnight(saturday, tz)
        return start, start + timedelta(days=2)

    def season(m):
        return _season(m["season"].lower(), now, ended=(m["which"] or m["which2"] or "").lower() == "last")

    def recently(m):
        # "the recently approved vaccine", "has recently been shown" describe a thing; "what did I
        # read recently" asks when. A participle after the word marks a description, unless the
        # asker is in the question.
        after = _QUERY_TOKEN.findall(m.string[m.end() :])[:1]
        describes = bool(after) and re.fullmatch(r"\w+(?:ed|en|wn)|been", after[0], re.I) is not None
        if describes and not any(t.lower() in _PERSONAL for t in _QUERY_TOKEN.findall(m.string)):
            return None
        return now - timedelta(days=RECENT_DAYS), now + timedelta(seconds=1)

    def weekday(m):
        return _last_weekday(m["weekday"].lower(), now)

    def month(m):
        return _month_window(_month_number(m["month"]), int(m["year"]) if m["year"] else None, now)

    def year(m):
        y = int(m["year"])
        return _midnight(date(y, 1, 1), tz), _midnight(date(y + 1, 1, 1), tz)

    def relation(m):
        parsed = _parse_date(m["date"], now)
        if parsed is None:
            return None
        start, granularity = parsed
        word = m["rel"].lower()
        if word == "since":
            return start, None
        if word == "after":
            return _period_end(start, granularity), None
        if word in ("before", "until", "till", "by"):
            return None, _period_end(start, granularity) if word in ("until", "till", "by") else start
        return start, _period_end(start, granularity)  # "on"

    def calendar_date(m):
        parsed = _parse_date(m["date"], now)
        return None if parsed is None else (parsed[0], _period_end(*parsed))

    def date_range(m):
        first, last = _parse_date(m["date"], now), _parse_date(m["date2"], now)
        if first is None or last is None:
            return None
        start, end = first[0], _period_end(*last)
        if start >= end and not re.search(_YEAR, m["date"]):  # "between November and February"
            start = start.replace(year=start.year - 1)
        return (start, end) if start < end else None

    def year_range(m):
        first, second = int(m["year"]), m["year2"]
        if len(second) == 4:
            last = int(second)
        elif int(second) == (first + 1) % 100:  # "2008-09": a season or fiscal year
            last = first + 1
        elif 1 <= int(second) <= 12:  # "2008-05": ISO year-month
            start = _month_start(first, int(second), tz)
            return start, _month_start(first, int(second) + 1, tz)
        else:
            return None
        if not first < last <= first + 100:
            return None
        return _midnight(date(first, 1, 1), tz), _midnight(date(last + 1, 1, 1), tz)

    def part_of_month(m):
        # "the last week of August 2023", "the first weekend of October": that part of the month, not a
        # week counted back from now. "The end of March", "mid-July", "the first half of May" are read
        # as the whole month: their edges are loose, and LoCoMo's such questions are answered by what
        # was written days after the part (docs/benchmarks.md, "Time phrases", "Parts of a month").
        start, end = _month_window(_month_number(m["month"]), int(m["year"]) if m["year"] else None, now)
        days, nth, part = (end - start).days, ORDINALS.get((m["which"] or "").lower()), (m["part"] or "").lower()
        if part not in ("day", "days", "week", "weeks", "weekend"):
            return start, end
        if nth is None or (part in ("days", "weeks") and not m["n"]):  # "late weekend", "the last days of May": which?
            return None
        if part == "weekend":
            saturdays = [d for d in range(days) if (start + timedelta(days=d)).weekday() == 5]
            return start + timedelta(days=saturdays[nth - 1]), start + timedelta(days=saturdays[nth - 1] + 2)
        span = (_number(m["n"]) if m["n"] else 1) * (7 if part.startswith("week") else 1)
        first = days - span if nth == 0 else (nth - 1) * span  # "last": counted back from the month's end
        if first < 0 or first + span > days:
            return None
        return start + timedelta(days=first), start + timedelta(days=first + span)

    def season_of_year(m):
        first = SEASON_START_MONTH[m["season"].lower()]
        start = _month_start(int(m["year"]), first, tz)
        return start, _month_start(start.year, start.month + 3, tz)

    rules = [
        (r"\b(?:(?:in|on|during|over|at|for)\s+)?(?:the\s+)?(?:(?P<which>first|second|third|fourth|last|final|early|mid|middle|late)\s+"
         r"(?:(?P<n>two|three|four|\d{1,2})\s+)?)?(?P<part>weeks?|weekend|days?|half|beginning|start|middle|end)\s+of\s+" + _MONTH
         + r"(?:,?\s+(?P<year>" + _YEAR + r"))?", part_of_month),
        (r"\b(?:in\s+)?(?P<which>early|mid|late)[\s-]+" + _MONTH + r"(?:,?\s+(?P<year>" + _YEAR + r"))?(?P<part>)(?P<n>)(?!,?\s*\d)", part_of_month),
        (r"\b(?:between|from)\s+" + _CALENDAR_DATE.replace("(?:", "(?P<date>", 1) + r"\s*(?:and|to|until|till|through|thru|-|–|—)\s*"
         + _CALENDAR_DATE.replace("(?:", "(?P<date2>", 1), date_range),
        (r"\b(?:in|during|over|throughout|from|between)\s+(?:the\s+)?(?:years?\s+)?(?P<year>" + _YEAR + r")\s*[-–—/]\s*(?P<year2>"
         + _YEAR + r"|\d\d)", year_range),
        (r"\b(?P<rel>since|after|before|until|till|on)\s+" + _DATEISH, relation),
        (r"\b(?:in|over|during|within)\s+the\s+(?:last|past)\s+(?:" + _NUM + r"\s+)?" + _UNIT, rolling),
        (r"\b(?:the\s+)?(?:last|past)\s+" + _NUM + r"\s+" + _UNIT, rolling),
        (r"\bpast\s+" + _UNIT, rolling),
        (r"\b" + _NUM + r"\s+" + _UNIT + r"\s+ago\b", ago),
        (r"\bearlier\s+this\s+" + _UNIT, this_period),
        (r"\bthis\s+(?P<unit>week|month|year)\b", this_period),
        (r"\b(?:last|previous)\s+(?P<unit>week|month|year)\b", last_period),
        (r"\b(?:(?:the|this)\s+)?(?:past|last)\s+weekend\b", weekend),
        (r"\b(?:(?:in|over|during)\s+)?(?:the\s+)?(?P<season>spring|summer|autumn|fall|winter)\s+(?:of\s+)?(?P<year>" + _YEAR + ")",
         season_of_year),
        # A season word alone is too often something else ("did prices fall", "a spring in the
        # lock", "winter tyres"): it is a time only after a preposition or last/this.
        (r"\b(?:(?:over|during|in|through)\s+(?:the\s+)?(?:(?P<which>last|this)\s+)?|(?P<which2>last|this)\s+)"
         r"(?P<season>spring|summer|autumn|fall|winter)\b", season),
        (r"\b(?:" + _VAGUE.pattern + r")\b", recently),
        (r"\byesterday\b", yesterday),
        (r"\b(?:today|tonight|this\s+morning|this\s+afternoon|this\s+evening)\b", today),
        (r"\b(?:on|last)\s+" + _WEEKDAY + r"\b", weekday),
        (r"\b(?:(?:in|on|during)\s+)?(?P<date>" + _FULL_DATE + ")", calendar_date),
        (r"\b(?:in|during)\s+(?:the\s+month\s+of\s+)?" + _MONTH + r"(?:\s+(?P<year>" + _YEAR + r"))?\b(?!,?\s*\d)", month),
        (r"\b(?:in|during)\s+(?P<year>" + _YEAR + r")\b", year),
    ]
    return [(_TOKEN_START + pattern + _TOKEN_END, rule) for pattern, rule in rules]


# Queries without any of these words skip the grammar entirely (and never import dateparser).
_TIME_WORDS = re.compile(
    r"\b(today|tonight|yesterday|ago|week|weekend|month|year|since|before|after|until|till|recently|lately|"
    r"morning|afternoon|evening|spring|summer|autumn|fall|winter|past|last|this|on|in|during|between|from|"
    + "|".join(WEEKDAYS + MONTHS)
    + r"|(19|20)\d\d)s?\b",
    re.I,
)


def _find_window(query: str, now: datetime) -> tuple[TimeWindow, re.Match] | None:
    if not _TIME_WORDS.search(query):
        return None
    kept = [m.span() for m in _NOT_A_WINDOW.finditer(query)]
    for pattern, rule in _window_rules(now):
        for m in re.finditer(pattern, query, re.I):
            if not m.group(0).strip() or any(m.start() < end and start < m.end() for start, end in kept):
                continue
            try:
                bounds = rule(m)
            except (ValueError, OverflowError, KeyError):
                bounds = None
            if bounds is not None:
                phrase = " ".join(m.group(0).split())
                return TimeWindow(bounds[0], bounds[1], phrase, firm=not _VAGUE.fullmatch(phrase)), m
    return None


def _is_subject(tokens: list[str], i: int) -> bool:
    """A personal pronoun, or a name (capitalised word inside the sentence): someone who acts."""
    if i < 0:
        return False
    word = tokens[i]
    if word.lower() in _SUBJECT_PRONOUNS:
        return True
    return i > 0 and word.isalpha() and word.istitle() and word.lower() not in _NOT_NAMES


def _qualifies_asked_thing(tokens: list[str], i: int) -> bool:
    """Whether the context word at tokens[i] is about when (the asker's act, or the thing asked
    for) rather than part of a description: "when did we first meet", "the first vendor we
    picked", "do you still use it", "what is the plan now" - but not "the first transmembrane
    domain", "is the virus still infectious", "how are cases now counted"."""
    word = tokens[i].lower()
    if _is_subject(tokens, i - 1):  # "we first", "I still", "Jo now"; also "did Jo first"
        return True
    at_clause_end = i + 1 == len(tokens) or tokens[i + 1] in _CLAUSE_END
    if word in ("now", "currently"):
        return at_clause_end
    if word in ("first", "earliest"):  # "the first vendor we picked": a clause about the asker's act follows
        following = []
        for token in tokens[i + 1 : i + 5]:
            if token in _CLAUSE_END:
                break
            following.append(token.lower())
        return any(t in _SUBJECT_PRONOUNS for t in following)
    return False


def _order(query: str) -> tuple[str | None, str | None]:
    for pattern, order in ORDER_PHRASES:
        m = re.search(_TOKEN_START + "(" + pattern + ")" + _TOKEN_END, query, re.I)
        if m:
            return order, " ".join(m.group(1).lower().split())
    tokens = _QUERY_TOKEN.findall(query)
    for i, token in enumerate(tokens):
        order = ORDER_IN_CONTEXT.get(token.lower())
        if order and _qualifies_asked_thing(tokens, i):
            return order, token.lower()
    return None, None


def parse_time_intent(query: str, now: datetime) -> TimeIntent:
    """The time window and order a query asks for, and the query without its time phrase.
    Never raises: an odd query is plain search."""
    try:
        found = _find_window(query, now)
    except Exception:  # noqa: BLE001 - user text must never break a search; treat it as no time phrase
        found = None
    rest = query
    window = None
    if found:
        window, m = found
        rest = query[: m.start()] + " " + query[m.end() :]
        # No space before punctuation where the phrase was, and no punctuation left alone at the start.
        rest = re.sub(r"^[\s,;:.]+", "", re.sub(r"\s+(?=[?.!,;:](?!\w))", "", rest))
    order, word = _order(rest)
    if window is not None and word == "last time":
        order, word = None, None
    return TimeIntent(window, order, word, " ".join(rest.split()))


def parse_when(text: str, now: datetime, *, end_of_period: bool = False) -> datetime:
    """A --since/--until/--now value: an ISO date or datetime, or a phrase ('yesterday',
    'last week', '3 days ago', 'March 2026'). For a period, its start (or, with end_of_period,
    its exclusive end, so --until yesterday includes all of yesterday)."""
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        parsed = None
    if parsed is not None:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=now.tzinfo)
        is_day = re.fullmatch(r"\d{4}-\d\d-\d\d", raw) is not None
        return parsed + timedelta(days=1) if (end_of_period and is_day) else parsed
    for candidate in (raw, f"in {raw}", f"on {raw}"):
        found = _find_window(candidate, now)
        if found and found[1].group(0).strip().lower() == candidate.lower():
            window = found[0]
            if end_of_period:
                return window.end or now
            return window.start or now
    try:
        parsed_date = _parse_date(raw, now)
    except (ValueError, OverflowError):
        parsed_date = None
    if parsed_date is not None:
        start, granularity = parsed_date
        has_clock = re.search(r"\d:\d\d|\b\d{1,2}\s*(am|pm)\b", raw, re.I)
        if has_clock:
            return start
        return _period_end(start, granularity) if end_of_period else start
    raise QueryError(f"cannot read {text!r} as a date or time", "use a date like 2026-03-01, or a phrase like 'last week' or '3 days ago'")
