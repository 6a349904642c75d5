"""Synthetic chats whose answers need what came before: written here, free to use.

Two friends talk over several sessions. Small talk fills most turns; now and then one of
them starts a story about a person, a pet, a trip or a plan by name, and a few turns later
(often in a later segment) gives the detail in words that no longer name it: "She named him
Biscuit." The question names the subject and asks for the detail ("What did Ana's sister
Maya name her puppy?"), so the segment with the answer matches it only through what the
stream said before. Some facts change in a later session; the question then asks for the
current value and its evidence is the latest mention.
"""

from __future__ import annotations

import random

from .recipes import segment_texts_with_owners
from .samples import Query, Sample

NAMES = [
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Elif",
    "Farid",
    "Gina",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Mara",
    "Nico",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bea",
    "Cyril",
    "Dana",
    "Emil",
    "Fay",
    "Gil",
    "Hana",
    "Ivo",
    "Jade",
    "Kofi",
    "Lena",
    "Milo",
    "Nora",
]
RELATIONS = (
    "sister",
    "brother",
    "cousin",
    "neighbour",
    "coworker",
    "roommate",
    "aunt",
    "uncle",
    "best friend",
    "boss",
)
SHE = {"sister": "She", "aunt": "She", "brother": "He", "uncle": "He"}
ANIMALS = ("puppy", "kitten", "parrot", "rabbit", "turtle", "hamster")
PET_NAMES = (
    "Biscuit",
    "Pepper",
    "Mochi",
    "Ziggy",
    "Luna",
    "Waffles",
    "Nugget",
    "Clover",
    "Bean",
    "Rocket",
)
JOBS = (
    "nurse",
    "data analyst",
    "baker",
    "architect",
    "teacher",
    "sound engineer",
    "pharmacist",
    "park ranger",
)
COMPANIES = (
    "a hospital downtown",
    "a small startup",
    "the city library",
    "a bakery on Elm Street",
    "a design studio",
    "the county office",
)
CITIES = (
    "Lisbon",
    "Osaka",
    "Denver",
    "Krakow",
    "Montreal",
    "Nairobi",
    "Hobart",
    "Valparaiso",
    "Tallinn",
    "Austin",
)
HOBBIES = (
    "pottery",
    "rock climbing",
    "salsa dancing",
    "birdwatching",
    "chess",
    "woodworking",
    "sourdough baking",
    "kayaking",
)
ITEMS = (
    "a road bike",
    "a film camera",
    "an electric piano",
    "a telescope",
    "a sewing machine",
    "a kayak",
)
COLOURS = ("red", "blue", "green", "black", "silver", "yellow")
PROJECTS = (
    "kitchen renovation",
    "wedding venue",
    "book club",
    "garden",
    "fundraiser",
    "road trip",
)
OPTIONS = (
    "the cheaper quote",
    "the place by the lake",
    "a Thursday slot",
    "raised beds",
    "an online auction",
    "the coastal route",
)
SMALL_TALK = (
    "How was your week?",
    "Pretty busy, honestly, but good.",
    "Ha, that sounds like me lately.",
    "Did you sleep at all?",
    "I'm just making some tea.",
    "The weather has been so weird.",
    "Same here, it rained all morning.",
    "lol yes",
    "That's fair.",
    "I know, right?",
    "Anyway, what's new with you?",
    "Not much, work has been a lot.",
    "We should grab coffee soon.",
    "Totally, next week maybe?",
    "I saw a great documentary yesterday.",
    "Oh which one?",
    "I'll send you the link later.",
    "Sounds good!",
    "Honestly I need a holiday.",
    "Me too, badly.",
    "Traffic was terrible today.",
    "My phone died twice today, so annoying.",
    "Good luck with that!",
    "Thanks, I'll let you know how it goes.",
    "That made me laugh.",
    "Oh no, are you okay?",
    "Yeah, all fine now.",
    "I've been cooking a lot more lately.",
    "Nice, anything good?",
    "Mostly pasta, to be honest.",
)


def _pronoun(relation: str, rng: random.Random) -> str:
    return SHE.get(relation) or rng.choice(("She", "He"))


def _story(teller: str, rng: random.Random) -> tuple[list[str], int, str, tuple[list[str], str] | None]:
    """(lines, index of the answer line, question, (later lines, later question) or None).

    Lines starting with "*" are said by the friend."""
    relation, name = rng.choice(RELATIONS), rng.choice(NAMES)
    who = f"{teller}'s {relation} {name}"
    p = _pronoun(relation, rng)
    kind = rng.randrange(6)
    if kind == 0:
        animal, pet = rng.choice(ANIMALS), rng.choice(PET_NAMES)
        lines = [
            f"My {relation} {name} just adopted a {animal}!",
            "*No way, that's adorable.",
            "*What's it like?",
            "Tiny and chaotic.",
            f"{p} named it {pet}, which suits it.",
        ]
        return lines, 4, f"What did {who} name the {animal}?", None
    if kind == 1:
        job, company = rng.choice(JOBS), rng.choice(COMPANIES)
        lines = [
            f"{name}, my {relation}, finally heard back about that job.",
            "*And??",
            "Good news!",
            f"{p} starts as a {job} at {company} next month.",
        ]
        later_job = rng.choice([j for j in JOBS if j != job])
        changed = (
            [
                f"Remember {name}'s job? Things changed.",
                f"{p} switched and is a {later_job} now.",
            ],
            f"What does {who} work as now?",
        )
        return lines, 3, f"What does {who} work as?", changed
    if kind == 2:
        city, days = rng.choice(CITIES), rng.randrange(3, 15)
        lines = [
            "We're finally planning a proper trip this year.",
            "*Oh nice, where to?",
            "Still deciding, there were three options.",
            f"Okay it's booked: {city}, {days} days in the spring!",
        ]
        return lines, 3, f"Where is {teller} going on the trip?", None
    if kind == 3:
        hobby, day = (
            rng.choice(HOBBIES),
            rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday", "Saturday")),
        )
        lines = [
            "I started something new last month, for me time.",
            "*Ooh, tell me.",
            f"It's {hobby}. I go every {day} evening.",
        ]
        return lines, 2, f"What hobby did {teller} take up?", None
    if kind == 4:
        item, colour = rng.choice(ITEMS), rng.choice(COLOURS)
        lines = [
            "I finally bought the thing I was saving for.",
            "*The one you kept talking about?",
            f"Yes! {item[0].upper() + item[1:]}, a {colour} one.",
        ]
        return lines, 2, f"What did {teller} buy with the money saved?", None
    project, option = rng.choice(PROJECTS), rng.choice(OPTIONS)
    lines = [
        f"We had the big meeting about the {project} today.",
        "*How did it go?",
        "Long. But we made a call.",
        f"We're going with {option}.",
    ]
    later = rng.choice([o for o in OPTIONS if o != option])
    changed = (
        [f"Update on the {project}: we changed our minds.", f"It's {later} after all."],
        f"What did {teller}'s {project} end up going with?",
    )
    return lines, 3, f"What was decided for {teller}'s {project}?", changed


def synthetic_chat(rng: random.Random, sessions: int = 6, stories_per_session: int = 2) -> Sample:
    a, b = rng.sample(NAMES, 2)
    turns: list[tuple[str, str]] = []
    questions: list[tuple[str, int]] = []  # (question, turn index of the answer)
    pending: list[tuple[str, str, tuple[list[str], str]]] = []  # changed facts, told in a later session
    for _ in range(sessions):
        for _ in range(rng.randrange(2, 6)):
            turns.append((rng.choice((a, b)), rng.choice(SMALL_TALK)))
        for speaker, other, (lines, question) in pending:
            turns += [
                (speaker, lines[0]),
                (other, "Oh? What happened?"),
                (speaker, lines[1]),
            ]
            questions.append((question, len(turns) - 1))
        pending = []
        for _ in range(stories_per_session):
            teller = rng.choice((a, b))
            friend = b if teller == a else a
            lines, answer, question, changed = _story(teller, rng)
            for n, line in enumerate(lines):
                if n == answer - 1 and rng.random() < 0.6:  # the answer often comes a few turns later
                    for _ in range(rng.randrange(1, 4)):
                        turns.append((rng.choice((a, b)), rng.choice(SMALL_TALK)))
                speaker, text = (friend, line[1:]) if line.startswith("*") else (teller, line)
                turns.append((speaker, text))
                if n == answer:
                    answer_turn = len(turns) - 1
            if changed is not None and rng.random() < 0.5:
                pending.append((teller, friend, changed))
            else:
                questions.append((question, answer_turn))
        for _ in range(rng.randrange(1, 4)):
            turns.append((rng.choice((a, b)), rng.choice(SMALL_TALK)))
    texts, owner = segment_texts_with_owners(turns)
    return Sample(texts, [Query(q, [owner[t]]) for q, t in questions])


def synthetic_samples(count: int, rng: random.Random) -> list[Sample]:
    return [synthetic_chat(rng, sessions=rng.randrange(3, 9)) for _ in range(count)]
