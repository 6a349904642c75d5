"""Does reading time phrases in questions help or hurt? Dated notes and articles, time handling on vs off.

    python benchmarks/time_phrases.py [--encoder hashing|minilm]

Corpus: 21 personal notes (dated by front matter, 2022-2026, recurring topics: dentist, boiler,
shed, tomatoes, pantry app database, budget, book club, trips) and 20 short articles dated by
their publication (1999-2023: SARS, 2019-nCoV, H1N1, measles, Ebola, RFC 2616, ISO 9001, ...),
all written for this benchmark. Questions (41) mention years, dates, ranges, codes and ordinals:
some ask about the asker's own records ("what did the boiler engineer say in March 2024?"), where
a window should help; some carry dates and ordinals that describe the content ("tests in
2019-nCoV?", "SARS cases between November 2002 and July 2003", "the first transmembrane domain"),
where time handling must not hurt. Each question has one gold file. Every question runs through
`ask` on the same index twice, with time handling on and with it off (the query taken as plain
text), at --now 2026-12-04. Printed: hit@1 (gold file ranked first) and Recall@10 (gold file in
the top 10), overall, per kind, and on the questions where the parser found time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)

# (file name, publication or writing date, text). Notes are in the first person, as people write them.
NOTES = [
    ("dentist-1.md", "2022-06-14", "First visit to the new dentist on Elm Street, Dr Okafor. She found two small cavities and did both fillings today. "
     "Next check-up in eighteen months. The waiting room has a fish tank, which Mia loved."),
    ("dentist-2.md", "2024-01-22", "Dentist check-up with Dr Okafor. The fillings are holding up fine. Booked a hygienist appointment for March "
     "and she told me to switch to a softer toothbrush because my gums are receding a little."),
    ("dentist-3.md", "2025-09-03", "Dentist: cracked a molar on an olive stone. Dr Okafor says it needs a crown, 640 euros, two appointments. "
     "Temporary crown fitted today; the permanent one is ready in three weeks."),
    ("boiler-1.md", "2023-10-12", "Boiler service. The engineer said the pressure keeps dropping because a valve under the boiler is leaking. "
     "He topped it up to 1.5 bar and will order the part. Radiators upstairs need bleeding."),
    ("boiler-2.md", "2024-03-07", "The boiler engineer came back and replaced the diverter valve. He said the heat exchanger is scaled up and the "
     "boiler is fifteen years old, so he quoted 2,800 for a new combi boiler. We will wait until autumn."),
    ("boiler-3.md", "2025-11-20", "Boiler died again on the coldest night so far. Decided to replace it with an air source heat pump instead of "
     "another gas boiler: the grant covers 7,500 and the installer can come in January."),
    ("shed-1.md", "2024-05-11", "Shed plan: a 2.4 by 1.8 metre timber shed behind the apple tree, felt roof, on paving slabs. "
     "We need to move the compost bins first. Budget about 900."),
    ("shed-2.md", "2025-04-26", "New shed plan: a metal shed instead of timber, 3 by 2 metres, on a concrete base, because the old fence "
     "posts rotted so fast. Jo wants a window on the garden side."),
    ("shed-3.md", "2026-08-15", "Shed plan changed again: we put it beside the house instead of behind the apple tree, so the bikes are "
     "closer to the gate, and we add a small solar panel on the roof for a light."),
    ("tomatoes-1.md", "2024-07-19", "Tomatoes: blight got all the outdoor plants after the wet week. Pulled them out and burned the leaves. "
     "Next year only greenhouse tomatoes and a blight resistant variety."),
    ("tomatoes-2.md", "2025-07-25", "Tomatoes are doing well in the greenhouse this time. Crimson Crush has no blight at all and the Sungold "
     "cherries are ripening every day. Watering twice a day in the heat."),
    ("pantry-db-1.md", "2024-02-02", "Pantry app database: going with SQLite for now, a single file is simple and it is only me and Jo "
     "scanning items. Tables: items, locations, scans."),
    ("pantry-db-2.md", "2025-06-10", "Moved the pantry app from SQLite to Postgres: two phones scanning at once hit database locked errors, "
     "and Postgres runs fine on the Raspberry Pi in Docker."),
    ("pantry-db-3.md", "2026-11-05", "Pantry app: still on Postgres, nightly backups to the NAS now, and I added a view for items that "
     "expire within a week. No plans to change the database."),
    ("budget-2024.md", "2024-01-05", "Household budget for the year: travel 1,200, home repairs 2,000, savings 300 a month. "
     "The car insurance went up by 18 percent."),
    ("budget-2025.md", "2025-01-08", "Household budget for the year: travel 2,000 because of the Lisbon trip, home repairs 3,500 for the "
     "boiler, savings 250 a month."),
    ("bookclub-1.md", "2023-11-14", "First book club meeting at Maya's flat. We read The Remains of the Day and argued about whether Stevens "
     "ever understood what he gave up. Six people came."),
    ("bookclub-2.md", "2025-03-18", "Book club read Klara and the Sun. Most liked it less than The Remains of the Day. Next host is Tom."),
    ("bookclub-3.md", "2026-11-25", "Book club chose Piranesi for January, after a long vote between that and Tomorrow, and Tomorrow, and "
     "Tomorrow. Meeting at our place."),
    ("lisbon.md", "2025-11-16", "Lisbon trip: the flat in Alfama was lovely but loud at night; Jo said next time we book near the river. "
     "Tram 28 was packed, we walked most of the way."),
    ("porto.md", "2023-05-20", "Porto trip: stayed in a small guesthouse in Ribeira with a view of the bridge. Port tasting in Gaia, "
     "bookshop queue far too long."),
]

ARTICLES = [
    ("sars-early.md", "2003-04-10", "Early reports of a new atypical pneumonia. Health officials in Guangdong report cases of severe acute "
     "respiratory syndrome since November 2002; more than 2,700 cases have been reported so far, and health workers are heavily affected."),
    ("sars-summary.md", "2004-04-21", "Summary of probable SARS cases with onset of illness from 1 November 2002 to 31 July 2003: 8,096 "
     "probable cases and 774 deaths in 29 countries. Most cases were in mainland China and Hong Kong."),
    ("sars-toronto.md", "2003-06-18", "SARS in Toronto: the earliest symptoms reported by patients were fever, muscle aches and a dry cough; "
     "a second cluster followed in a hospital in May."),
    ("ncov-testing.md", "2020-01-30", "Laboratory testing for 2019-nCoV. Real-time RT-PCR assays target the E gene for screening and the RdRp "
     "gene for confirmation; samples from the lower respiratory tract give the most reliable diagnostic results."),
    ("covid-sitrep.md", "2020-03-10", "COVID-19 situation report. As of 5 March 2020, 95,333 confirmed cases and 3,282 deaths have been "
     "reported globally, with 2,055 new cases in the last day outside China."),
    ("surface-stability.md", "2020-03-17", "Aerosol and surface stability of SARS-CoV-2: the virus remained viable and infectious on plastic and "
     "stainless steel for up to 72 hours, on cardboard up to 24 hours, and in aerosols for three hours."),
    ("covid-deaths.md", "2021-06-02", "How COVID-19 deaths are counted: most countries now count a death by the date it was reported, not the "
     "date it occurred, and include deaths within 28 days of a positive test."),
    ("glp1-receptor.md", "2017-08-09", "Structure of the GLP-1 receptor: the first transmembrane domain anchors the extracellular domain and "
     "helps bind the peptide ligand; the seventh transmembrane helix couples to the G protein."),
    ("h1n1-pandemic.md", "2010-08-10", "Pandemic H1N1 influenza in 2009-2010: at least 18,449 laboratory-confirmed deaths were reported "
     "worldwide, with young adults hit harder than in seasonal influenza."),
    ("flu-2008-09.md", "2009-10-01", "The 2008–09 influenza season in the United States: seasonal H1N1 viruses dominated early in the season, "
     "influenza B later, and the vaccine matched the circulating strains well."),
    ("flu-vaccine-2008.md", "2008-11-20", "Influenza vaccination campaign opens: pharmacies offer the seasonal flu shot to adults over 65 "
     "and to health workers; uptake last winter was 71 percent."),
    ("measles-2019.md", "2019-12-05", "Measles cases reported in 2019 are the highest since 1992: 1,282 cases in 31 states, most in "
     "under-vaccinated communities in New York."),
    ("ebola.md", "2016-06-10", "The 2014–2016 West Africa Ebola epidemic caused 28,600 cases and 11,325 deaths in Guinea, Liberia and "
     "Sierra Leone, the largest outbreak since the virus was discovered."),
    ("mers.md", "2012-09-28", "A novel coronavirus was identified in a patient in Saudi Arabia who died of pneumonia and kidney failure; "
     "it was later named Middle East respiratory syndrome coronavirus."),
    ("rsv-vaccine.md", "2023-05-03", "The first RSV vaccine for adults aged 60 and older was approved, after a trial showed 83 percent "
     "efficacy against lower respiratory tract disease."),
    ("rfc2616.md", "1999-06-15", "HTTP/1.1 is published as RFC 2616. Its caching rules: Cache-Control directives such as max-age, no-cache "
     "and no-store, validation with ETag and If-None-Match, and Expires for older caches."),
    ("http2.md", "2015-05-14", "HTTP/2 is published as RFC 7540: binary framing, multiplexed streams on one connection, header "
     "compression with HPACK and server push."),
    ("iso9001.md", "2015-09-23", "The ISO 9001:2015 revision replaces preventive action with risk-based thinking, drops the required "
     "quality manual and asks top management to take direct responsibility for the quality system."),
    ("zika.md", "2016-02-01", "Zika virus declared a public health emergency. The virus was first detected in Brazil in May 2015 and has "
     "been linked to microcephaly in newborns."),
    ("omicron.md", "2021-12-01", "The Omicron variant carries more than 30 mutations in the spike protein; early data suggest it spreads "
     "faster and partly escapes immunity from vaccines."),
]

# (question, gold file, kind): "record" asks about the asker's own notes, "content" carries a date
# or ordinal that describes what the article is about.
QUESTIONS = [
    ("What diagnostic tests were used for 2019-nCoV?", "ncov-testing.md", "content"),
    ("tests in 2019-nCoV?", "ncov-testing.md", "content"),
    ("How many probable SARS cases were there between November 2002 and July 2003?", "sars-summary.md", "content"),
    ("As of 5 March 2020, how many confirmed COVID-19 cases were there?", "covid-sitrep.md", "content"),
    ("How many people died of pandemic H1N1 in 2009-2010?", "h1n1-pandemic.md", "content"),
    ("Which influenza viruses dominated in 2008–09?", "flu-2008-09.md", "content"),
    ("What does the first transmembrane domain of the GLP-1 receptor do?", "glp1-receptor.md", "content"),
    ("Is the virus still infectious on plastic surfaces?", "surface-stability.md", "content"),
    ("How are COVID-19 deaths now counted?", "covid-deaths.md", "content"),
    ("How many measles cases were reported in 2019?", "measles-2019.md", "content"),
    ("How many cases did the Ebola epidemic cause between 2014 and 2016?", "ebola.md", "content"),
    ("Where was the novel coronavirus first identified in 2012?", "mers.md", "content"),
    ("Which was the first RSV vaccine approved for older adults?", "rsv-vaccine.md", "content"),
    ("What caching rules does RFC 2616 define?", "rfc2616.md", "content"),
    ("What changed in the ISO 9001:2015 revision?", "iso9001.md", "content"),
    ("When was Zika first detected in Brazil?", "zika.md", "content"),
    ("What were the earliest symptoms reported for SARS in Toronto?", "sars-toronto.md", "content"),
    ("How many spike mutations does the Omicron variant carry, as of December 2021?", "omicron.md", "content"),
    ("the first time I went to the new dentist", "dentist-1.md", "record"),
    ("what did the dentist say in September 2025?", "dentist-3.md", "record"),
    ("what did the boiler engineer say in March 2024?", "boiler-2.md", "record"),
    ("the latest plan for the shed", "shed-3.md", "record"),
    ("what was the first shed plan we made?", "shed-1.md", "record"),
    ("how did the tomatoes do in the summer of 2024?", "tomatoes-1.md", "record"),
    ("what did we originally pick for the pantry app database?", "pantry-db-1.md", "record"),
    ("do we still use Postgres for the pantry app?", "pantry-db-3.md", "record"),
    ("what was the travel budget in 2024?", "budget-2024.md", "record"),
    ("what did we read at the first book club meeting?", "bookclub-1.md", "record"),
    ("what did book club choose last week?", "bookclub-3.md", "record"),
    ("what did book club choose recently?", "bookclub-3.md", "record"),
    ("what did I change in the pantry app recently?", "pantry-db-3.md", "record"),
    ("what did I change in the pantry app in the first week of November?", "pantry-db-3.md", "record"),
    ("how were the tomatoes in the last week of July 2025?", "tomatoes-2.md", "record"),
    ("where did we stay in Porto in May 2023?", "porto.md", "record"),
    ("what did I decide about the boiler between October 2025 and December 2025?", "boiler-3.md", "record"),
    ("what was wrong with the boiler before December 2023?", "boiler-1.md", "record"),
    ("which dentist did I see in 2022?", "dentist-1.md", "record"),
    ("the earliest note I have about the boiler", "boiler-1.md", "record"),
    ("the most recent dentist visit", "dentist-3.md", "record"),
    ("what did Jo say about the Lisbon flat in November 2025?", "lisbon.md", "record"),
    ("what did we plan for the shed in 2025?", "shed-2.md", "record"),
]


def write_corpus(folder: Path) -> None:
    for name, day, text in NOTES + ARTICLES:
        (folder / name).write_text(f"---\ndate: {day}\n---\n\n{text}\n", encoding="utf-8")


@contextmanager
def time_handling_off():
    """The query as plain text: no window, no order, nothing removed."""
    import evosearch.search as search
    from evosearch.timephrases import TimeIntent

    saved = search.parse_time_intent
    search.parse_time_intent = lambda query, now: TimeIntent(None, None, None, " ".join(query.split()))
    try:
        yield
    finally:
        search.parse_time_intent = saved


def ranked_files(store, encoder, question: str) -> list[str]:
    from evosearch.search import ask

    files: list[str] = []
    for row in ask(store, encoder, question, now=NOW, limit=30)["results"]:
        name = Path(row["path"]).name
        if name not in files:
            files.append(name)
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="hashing", choices=["hashing", "minilm"])
    parser.add_argument("--window-share", type=float, default=None, help="Fusion.window_share to try (default: the encoder's shipped one)")
    args = parser.parse_args(argv)
    if args.window_share is not None:
        from dataclasses import replace

        import evosearch.search as search

        search.FUSION = {name: replace(f, window_share=args.window_share) for name, f in search.FUSION.items()}
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from quality import build_index

    from evosearch.encoder import load_encoder
    from evosearch.timephrases import parse_time_intent

    encoder = load_encoder(args.encoder)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "corpus").mkdir()
        write_corpus(tmp / "corpus")
        store, _, segments = build_index(tmp / "corpus", tmp / "db", encoder)
        on = [ranked_files(store, encoder, q) for q, _, _ in QUESTIONS]
        with time_handling_off():
            off = [ranked_files(store, encoder, q) for q, _, _ in QUESTIONS]
    touched = []
    for q, _, _ in QUESTIONS:
        intent = parse_time_intent(q, NOW)
        touched.append(intent.window is not None or intent.order is not None)
    groups = {
        "all": range(len(QUESTIONS)),
        "record (own notes)": [i for i, q in enumerate(QUESTIONS) if q[2] == "record"],
        "content (articles)": [i for i, q in enumerate(QUESTIONS) if q[2] == "content"],
        "time found by the parser": [i for i in range(len(QUESTIONS)) if touched[i]],
    }
    print(f"encoder {encoder.model_id}; {len(QUESTIONS)} questions over {segments} segments of {len(NOTES) + len(ARTICLES)} files; now {NOW.date()}")
    print(f"{'questions':<28} {'n':>3} {'hit@1 off':>10} {'hit@1 on':>9} {'R@10 off':>9} {'R@10 on':>8}")
    for name, idx in groups.items():
        idx = list(idx)
        n = max(len(idx), 1)

        def rate(runs, k):
            return 100 * sum(QUESTIONS[i][1] in runs[i][:k] for i in idx) / n

        print(f"{name:<28} {len(idx):>3} {rate(off, 1):>10.1f} {rate(on, 1):>9.1f} {rate(off, 10):>9.1f} {rate(on, 10):>8.1f}")
    changed = [i for i in range(len(QUESTIONS)) if (QUESTIONS[i][1] == on[i][0]) != (QUESTIONS[i][1] == off[i][0])]
    for i in changed:
        verdict = "won" if QUESTIONS[i][1] == on[i][0] else "LOST"
        print(f"  hit@1 {verdict} with time on: {QUESTIONS[i][0]!r} (off: {off[i][0]}, on: {on[i][0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
