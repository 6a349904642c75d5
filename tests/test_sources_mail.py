"""Email: an mbox written the way Gmail Takeout and Thunderbird write it, .eml files, and bad input."""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources import mail as mail_module
from evosearch.sources.detect import read_source
from evosearch.sources.mail import read_eml, read_mbox
from evosearch.sources.walk import iter_source_files, iter_sources
from tests.test_sources_documents import make_pdf
from tests.test_sources_odt import odt_bytes
from tests.test_sources_word import word_document


def mail(msgid, sender, date, subject, body=None, html=None, reply_to=None, refs=(), attachment=None) -> EmailMessage:
    """A message as a mail client writes it (synthetic people and addresses)."""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "Ben Okafor <ben@example.org>"
    m["Subject"] = subject
    m["Date"] = format_datetime(date)
    m["Message-ID"] = f"<{msgid}>"
    if reply_to:
        m["In-Reply-To"] = f"<{reply_to}>"
    if refs:
        m["References"] = " ".join(f"<{r}>" for r in refs)
    if body is not None:
        m.set_content(body)
        if html is not None:
            m.add_alternative(html, subtype="html")
    elif html is not None:
        m.set_content(html, subtype="html")
    if attachment:
        m.add_attachment(b"\x89PNG binary bytes " * 50, maintype="image", subtype="png", filename=attachment)
    return m


def mbox_bytes(messages: list[EmailMessage]) -> bytes:
    out = io.BytesIO()
    for m in messages:
        out.write(b"From - Tue Nov 03 14:05:00 2026\n")
        raw = m.as_bytes(policy=m.policy.clone(linesep="\n"))
        raw = b"\n".join(b">" + line if line.startswith(b"From ") else line for line in raw.split(b"\n"))
        out.write(raw.rstrip(b"\n") + b"\n\n")
    return out.getvalue()


T0 = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
ANA = "Ana Lima <ana@example.org>"
BEN = "Ben Okafor <ben@example.org>"


def inbox() -> list[EmailMessage]:
    return [
        mail("1@x", ANA, T0, "Cabin trip", body="Shall we book the cabin by the lake for March?\n\n-- \nAna Lima\nPhone 555 0100"),
        # a reply quoting the first, sent before it arrived in the file order: time order must fix it
        mail(
            "3@x", ANA, T0.replace(hour=18), "Re: Cabin trip", body="Booked it, deposit paid.\n\nOn Tue, Ben wrote:\n> Yes, March works", reply_to="2@x", refs=("1@x", "2@x")
        ),
        mail(
            "2@x",
            BEN,
            T0.replace(hour=16),
            "Re: Cabin trip",
            body="Yes, March works for me.\n\nOn Tue, 3 Nov 2026, Ana Lima wrote:\n> Shall we book the cabin by the lake for March?",
            html="<p>Yes, March works for me.</p><blockquote>Shall we book</blockquote>",
            reply_to="1@x",
            refs=("1@x",),
        ),
        mail("4@x", "newsletter@example.com", T0.replace(day=4), "Weekly digest", html="<html><body><h1>Digest</h1><p>Seed swap on Sunday</p></body></html>"),
        mail("5@x", BEN, T0.replace(day=5), "Photos", body="The photos from the walk.", attachment="walk.png"),
        # a client that dropped In-Reply-To and References: joined by subject
        mail("6@x", ANA, T0.replace(day=6), "RE: Photos", body="Lovely, thanks!"),
    ]


def test_mbox_threads_in_time_order_with_speakers_and_ids(tmp_path):
    path = tmp_path / "All mail Including Spam and Trash.mbox"
    path.write_bytes(mbox_bytes(inbox()))
    warnings = []
    streams = {s.title: s for s in read_source(path, warnings.append)}
    assert not warnings
    assert set(streams) == {"Cabin trip", "Weekly digest", "Photos"}
    cabin = streams["Cabin trip"]
    assert cabin.format == "email" and cabin.stream_id == f"{path}#1@x"
    assert [u.message_id for u in cabin.units] == ["1@x", "2@x", "3@x"]
    assert [u.speaker for u in cabin.units] == ["Ana Lima", "Ben Okafor", "Ana Lima"]
    assert cabin.units[0].time == T0
    # signature and quotes trimmed; the HTML alternative not indexed a second time
    assert cabin.units[0].text == "Shall we book the cabin by the lake for March?"
    assert cabin.units[1].text == "Yes, March works for me."
    assert cabin.units[2].text == "Booked it, deposit paid."
    digest = streams["Weekly digest"].units[0]
    assert digest.text == "Digest\nSeed swap on Sunday" and digest.speaker == "newsletter@example.com"
    photos = streams["Photos"].units
    assert [u.message_id for u in photos] == ["5@x", "6@x"]
    assert photos[0].text == "The photos from the walk.\n[attachment: walk.png]"
    assert "iVBOR" not in photos[0].text and "UE5H" not in photos[0].text  # never the base64


def test_mbox_body_line_starting_with_from_is_not_a_separator(tmp_path):
    path = tmp_path / "x.mbox"
    path.write_bytes(mbox_bytes([mail("1@x", ANA, T0, "Quote", body="From the garden:\nFrom Tue Nov 03 notes, tomatoes")]))
    [stream] = read_source(path, lambda _: None)
    assert len(stream.units) == 1 and "tomatoes" in stream.units[0].text


def test_eml_file_and_folder(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    for m in inbox()[:2]:
        (folder / f"{m['Message-ID'].strip('<>')}.eml").write_bytes(bytes(m))
    # the folder is one source, its .eml files its members; a file named on its own is read alone
    assert list(iter_sources([folder], lambda _: None)) == [(folder, [folder / "1@x.eml", folder / "3@x.eml"])]
    [stream] = read_source(folder / "1@x.eml", lambda _: None)
    assert stream.format == "email" and stream.units[0].speaker == "Ana Lima"
    # an .eml without its suffix is still recognised by its headers
    (tmp_path / "message").write_bytes(b"Received: from a\r\n" + bytes(inbox()[0]))
    [stream] = read_source(tmp_path / "message", lambda _: None)
    assert stream.format == "email"


def units_of(streams) -> dict[str, list[tuple]]:
    """thread title -> (message id, speaker, time, text) of each unit: what must not depend on how the mail was stored."""
    return {s.title: [(u.message_id, u.speaker, u.time, u.text) for u in s.units] for s in streams}


def test_a_folder_of_eml_files_is_threaded_across_files_like_the_same_mbox(tmp_path):
    """Five files of one thread, saved under their subjects as mail clients do, in an order unrelated to time."""
    folder = tmp_path / "Saved mail"
    folder.mkdir()
    messages = inbox() + [with_documents(), mail("8@x", BEN, T0.replace(hour=15), "Re: Plans", body="Thanks!", reply_to="7@x")]
    for number, m in enumerate(reversed(messages)):
        (folder / f"{number:02d} {m['Subject'].replace(':', '')}.eml").write_bytes(bytes(m))
    (folder / "notes.txt").write_text("Not mail: a note beside the mail, a source of its own.\n")
    mbox = tmp_path / "same.mbox"
    mbox.write_bytes(mbox_bytes(messages))
    [(source, members)] = [(p, m) for p, m in iter_sources([folder], print) if m is not None]
    assert source == folder and len(members) == len(messages)
    warnings = []
    streams = read_source(folder, warnings.append, members)
    assert [w.split(": ", 1)[1][:12] for w in warnings] == ["1 attachment"]  # broken.pdf, as in the mbox
    assert units_of(streams) == units_of(read_source(mbox, print))
    cabin = next(s for s in streams if s.title == "Cabin trip")
    assert cabin.stream_id == f"{folder}#1@x" and cabin.path == str(folder) and cabin.format == "email"
    assert [u.message_id for u in cabin.units] == ["1@x", "2@x", "3@x"]
    assert {p for p, m in iter_sources([folder], print) if m is None} == {folder / "notes.txt"}


def test_maildir_plus_folders_inside_a_maildir_are_mailboxes_of_their_own_but_not_trash_or_spam(tmp_path):
    # Dovecot's layout: the root is INBOX; .Sent and .Archive.2024 are Maildirs inside it.
    root = tmp_path / "Maildir"
    for folder in (root, root / ".Sent", root / ".Archive.2024", root / ".Trash", root / ".Junk", root / ".Lists.rust"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
    messages = inbox()
    placed = {root: messages[0], root / ".Sent": messages[2], root / ".Archive.2024": messages[1], root / ".Trash": messages[3], root / ".Junk": messages[3]}
    for number, (folder, message) in enumerate(placed.items()):
        (folder / "cur" / f"17960000{number}.M1.host:2,S").write_bytes(bytes(message))
    (root / ".Lists.rust" / "cur" / "x").write_bytes(bytes(messages[3]))
    (root / "maildirfolder").write_text("")
    (root / "dovecot.index.log").write_bytes(b"\x01\x02")
    warnings = []
    found = [path for path, _ in iter_sources([tmp_path], warnings.append)]
    assert found == [root, root / ".Archive.2024", root / ".Lists.rust", root / ".Sent"]
    assert not warnings
    # outside a Maildir, hidden folders stay passed over
    hidden = tmp_path / "notes" / ".drafts"
    for sub in ("cur", "new", "tmp"):
        (hidden / sub).mkdir(parents=True)
    (hidden / "cur" / "y").write_bytes(bytes(messages[0]))
    assert [path for path, _ in iter_sources([tmp_path / "notes"], warnings.append)] == []


def test_a_maildir_is_one_mailbox_across_cur_and_new(tmp_path):
    box = tmp_path / "Mail" / "INBOX"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    first, reply = inbox()[0], inbox()[2]  # 2@x answers 1@x
    for m in (first, reply):
        m["Received"] = "from mx.example.org by mail.example.org"
    (box / "cur" / "1796000000.M1P2.host:2,S").write_bytes(bytes(first))
    (box / "new" / "1796000001.M3P4.host").write_bytes(bytes(reply))
    (box / "tmp" / "1796000002.M5P6.host").write_bytes(b"From: half written")  # a delivery under way: never read
    no_id = mail("x", BEN, T0.replace(day=9), "Seeds", body="Seeds arrived.")
    del no_id["Message-ID"]
    (box / "cur" / "1796000003.M7P8.host:2,").write_bytes(bytes(no_id))
    (box / "dovecot-uidlist").write_text("3 V1 N4\n")
    warnings = []
    found = list(iter_sources([tmp_path], warnings.append))
    assert found == [(box, [box / "cur" / "1796000000.M1P2.host:2,S", box / "cur" / "1796000003.M7P8.host:2,", box / "new" / "1796000001.M3P4.host"])]
    streams = {s.title: s for s in read_source(box, warnings.append, found[0][1])}
    assert not warnings
    assert [u.message_id for u in streams["Cabin trip"].units] == ["1@x", "2@x"]
    # a message without a Message-ID is located by its file
    assert [u.message_id for u in streams["Seeds"].units] == ["cur/1796000003.M7P8.host:2,"]
    # cur/ named on its own is a mailbox of its messages
    assert [p for p, _ in iter_sources([box / "cur"], print)] == [box / "cur"]


def test_bad_files_in_a_mail_folder_are_one_warning_and_the_rest_is_read(tmp_path, monkeypatch):
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "a.eml").write_bytes(bytes(inbox()[0]))
    (folder / "b.eml").write_bytes(b"\x89PNG\r\n\x1a\n binary, not mail")
    (folder / "c.eml").write_bytes(b"")
    (folder / "d.eml").write_bytes(b"From - Tue Nov 03 14:05:00 2026\n" + bytes(inbox()[3]))  # saved with its mbox line
    warnings = []
    streams = read_source(folder, warnings.append)
    assert [u.message_id for s in streams for u in s.units] == ["1@x", "4@x"]
    assert warnings == [f"{folder}: 2 files not read as mail (b.eml: not a mail message)"]
    # nothing readable at all: one SourceError line, naming the first problem
    for name in ("a.eml", "d.eml"):
        (folder / name).unlink()
    with pytest.raises(SourceError) as e:
        read_source(folder, warnings.append)
    assert e.value.message == f"{folder}: no mail messages found; 2 files not read as mail (b.eml: not a mail message)"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["a.eml", "b.eml", "Re x.eml", "c.EML"]), st.binary(max_size=300), st.lists(st.sampled_from([b"From: a <a@b>\n", b"Subject: Re: x\n", b"Message-ID: <1@x>\n", b"In-Reply-To: <1@x>\n", b"References: <2@x> <", b"\n", b"Date: Tue, 3 Nov 2026 14:05 +0000\n", b"Content-Type: message/rfc822\n", b"Content-Type: multipart/mixed; boundary=b\n", b"--b\n", b"\xff"]), max_size=12)), max_size=5))
def test_mail_folder_reading_raises_nothing_but_source_error(tmp_path, files):
    folder = tmp_path / "box"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(exist_ok=True)
    for name, noise, pieces in files:
        (folder / name).write_bytes(b"".join(pieces) + noise)
    warnings = []
    try:
        streams = read_source(folder, warnings.append)
    except SourceError as e:
        assert e.message.startswith(f"{folder}: ") and "\n" not in e.message
        return
    assert all("\n" not in w for w in warnings)
    assert len({s.stream_id for s in streams}) == len(streams)
    said = [(u.message_id, u.text) for s in streams for u in s.units]
    assert len(said) == len(set(said))  # a message saved twice is indexed once
    for stream in streams:
        assert stream.format == "email" and stream.units and stream.path == str(folder)


def test_malformed_message_is_warned_about_and_the_rest_kept(tmp_path):
    good = mbox_bytes(inbox()[:1])
    bad = b"From - Tue Nov 03 14:05:00 2026\nFrom: =?utf-8?q?broken\nDate: not a date\nSubject: \xff\xfe\n\n\xff\xfe body\n\n"
    path = tmp_path / "x.mbox"
    path.write_bytes(bad + good)
    warnings = []
    streams = read_source(path, warnings.append)
    texts = [u.text for s in streams for u in s.units]
    assert "Shall we book the cabin by the lake for March?" in texts
    assert len(warnings) <= 1 and all("\n" not in w for w in warnings)


def test_not_mail_is_not_taken_for_mail(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("From the start:\nTodo: water the plants\n")
    [stream] = read_source(note, lambda _: None)
    assert stream.format != "email"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.lists(st.sampled_from([b"From: a <a@b>\n", b"Subject: Re: x\n", b"Message-ID: <1@x>\n", b"References: <", b"\n", b"Date: Tue, 3 Nov 2026 14:05 +0000\n", b"Content-Type: multipart/alternative; boundary=b\n", b"--b\n", b"\xff", b"Content-Type: application/pdf\n", b"Content-Disposition: attachment; filename=a.docx\n", b"Content-Transfer-Encoding: base64\n", b"%PDF-1.4\n", b"UEsDBA==\n"]), max_size=20))
def test_readers_raise_nothing_but_source_error(tmp_path, noise, pieces):
    raw = b"".join(pieces) + noise
    for read in (lambda p: read_mbox(p, io.BytesIO(b"From - Tue Nov 03 14:05:00 2026\n" + raw), lambda _: None), lambda p: read_eml(p, raw, lambda _: None)):
        path = tmp_path / "x.mbox"
        try:
            streams = read(path)
        except SourceError as e:
            assert e.message.startswith(f"{path}: ") and "\n" not in e.message
            continue
        for stream in streams:
            assert stream.format == "email" and stream.units
            for unit in stream.units:
                assert unit.text.strip() and isinstance(unit.message_id, str)


def test_wrapped_attribution_line_is_trimmed_with_its_quote(tmp_path):
    body = "Thursday is fine.\n\nOn Tue, Nov 3, 2026 at 2:05 PM Ana Lima <ana@example.org>\nwrote:\n> Water on Thursday?\n"
    path = tmp_path / "x.eml"
    path.write_bytes(bytes(mail("9@x", BEN, T0, "Re: water", body=body)))
    [stream] = read_source(path, lambda _: None)
    assert stream.units[0].text == "Thursday is fine."


def with_documents() -> EmailMessage:
    """A message carrying what people attach: documents evosearch reads, a broken one and a photo."""
    m = mail("7@x", ANA, T0, "Plans", body="The plans are attached.")
    m.add_attachment(make_pdf(["The shed roof is green sedum.", "Budget raised to 900 euros."]), maintype="application", subtype="pdf", filename="shed.pdf")
    m.add_attachment(word_document(), maintype="application", subtype="octet-stream", filename="garden.docx")  # typed by name only
    m.add_attachment(odt_bytes(), maintype="application", subtype="vnd.oasis.opendocument.text", filename="trip.odt")
    m.add_attachment("# Packing\n\nTent and stove.\n", subtype="markdown", filename="list.md")
    m.add_attachment(b"%PDF-1.4 cut short", maintype="application", subtype="pdf", filename="broken.pdf")
    m.add_attachment(b"\x89PNG binary bytes " * 50, maintype="image", subtype="png", filename="walk.png")
    return m


def test_attachments_text_follows_its_message_read_by_the_file_readers(tmp_path):
    path = tmp_path / "x.mbox"
    path.write_bytes(mbox_bytes([with_documents(), mail("8@x", BEN, T0.replace(hour=15), "Re: Plans", body="Thanks!", reply_to="7@x")]))
    warnings = []
    [stream] = read_source(path, warnings.append)
    ids = [u.message_id for u in stream.units]
    # the message, then each document's blocks in order, then the reply
    assert ids[0] == "7@x" and ids[-1] == "8@x"
    assert list(dict.fromkeys(ids[1:-1])) == ["7@x attachment shed.pdf", "7@x attachment garden.docx", "7@x attachment trip.odt", "7@x attachment list.md"]
    by_id = {}
    for u in stream.units[1:-1]:
        by_id.setdefault(u.message_id, []).append(u.text)
        assert u.speaker == "Ana Lima" and u.time == T0
    assert by_id["7@x attachment shed.pdf"] == ["The shed roof is green sedum.", "Budget raised to 900 euros."]
    assert "Tomatoes go in the south bed after the last frost." in by_id["7@x attachment garden.docx"]
    assert "passport\ncharger" in by_id["7@x attachment trip.odt"]
    assert by_id["7@x attachment list.md"] == ["# Packing\nTent and stove."]
    # every name stays in the message's text; the photo and the broken PDF contribute nothing else, never base64
    assert all(f"[attachment: {n}]" in stream.units[0].text for n in ("shed.pdf", "garden.docx", "broken.pdf", "walk.png"))
    assert not any("iVBOR" in u.text or "JVBER" in u.text for u in stream.units)
    [warning] = warnings
    assert "\n" not in warning and warning.startswith(f"{path}: 1 attachment ") and "'broken.pdf' in message <7@x>" in warning


def test_attachment_over_the_size_limit_is_indexed_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(mail_module, "MAX_ATTACHMENT_BYTES", 2**20)
    m = mail("9@x", ANA, T0, "Logs", body="Two logs.")
    m.add_attachment("ferry log line\n" * 2**17, filename="big.txt")  # 1.9 MiB
    m.add_attachment("ferry log summary\n", filename="small.txt")
    path = tmp_path / "x.eml"
    path.write_bytes(bytes(m))
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert [u.message_id for u in stream.units] == ["9@x", "9@x attachment small.txt"]
    assert "[attachment: big.txt]" in stream.units[0].text
    assert warnings == [f"{path}: 1 attachment indexed by name only or in part ('big.txt' in message <9@x>: over the 1 MiB read per attachment)"]


MORK = b'// <!-- <mdb:mork:z v="1.4"/> -->\n< <(a=c)> // (f=iso-8859-1)\n  (B8=Inbox)(B9=ns:msg:db:row:scope:msgs:all)>\n'


def thunderbird_mbox(messages: list[tuple[EmailMessage, int]]) -> bytes:
    """Messages as Thunderbird stores them: a "From - date" line, then its X-Mozilla headers first."""
    out = io.BytesIO()
    for m, status in messages:
        raw = m.as_bytes(policy=m.policy.clone(linesep="\n"))
        out.write(f"From - Tue Nov 03 14:05:00 2026\nX-Mozilla-Status: {status:04x}\nX-Mozilla-Status2: 00000000\nX-Mozilla-Keys:{' ' * 80}\n".encode())
        out.write(b"\n".join(b">" + line if line.startswith(b"From ") else line for line in raw.split(b"\n")).rstrip(b"\n") + b"\n\n")
    return out.getvalue()


def test_thunderbird_profile_mailboxes_are_found_by_content(tmp_path):
    profile = tmp_path / "xk3v9q2d.default-release"
    local = profile / "Mail" / "Local Folders"
    imap = profile / "ImapMail" / "imap.example.org"
    (local / "Archives.sbd").mkdir(parents=True)
    imap.mkdir(parents=True)
    received, sent, archived = inbox()[:3], inbox()[3:4], inbox()[4:5]
    deleted = mail("99@x", BEN, T0, "Old news", body="Deleted but the folder was never compacted.")
    (local / "Inbox").write_bytes(thunderbird_mbox([(m, 0x0001) for m in received] + [(deleted, 0x0009)]))
    (local / "Sent").write_bytes(thunderbird_mbox([(m, 0x0001) for m in sent]))
    (local / "Trash").write_bytes(b"")  # emptied
    (local / "Archives").write_bytes(b"")  # a folder that only holds subfolders
    (local / "Archives.sbd" / "2024").write_bytes(thunderbird_mbox([(m, 0x0003) for m in archived]))
    (imap / "INBOX").write_bytes(thunderbird_mbox([(inbox()[5], 0x0000)]))
    for mailbox in (local / "Inbox", local / "Sent", local / "Trash", local / "Archives", local / "Archives.sbd" / "2024", imap / "INBOX"):
        mailbox.with_name(mailbox.name + ".msf").write_bytes(MORK)
    (local / "msgFilterRules.dat").write_text('version="9"\nlogging="no"\n')
    # text that starts like an mbox but holds no mail headers, and a plain note without a suffix
    (local / "Notes").write_text("From - Tue Nov 03 14:05:00 2026\nTodo: water the plants\nSubject: later\n")
    (local / "README").write_text("From the start: this folder holds mail.\n")
    warnings = []
    found = list(iter_source_files([profile], warnings.append))
    assert [p.relative_to(profile).as_posix() for p in found] == [
        "ImapMail/imap.example.org/INBOX",
        "Mail/Local Folders/Archives.sbd/2024",
        "Mail/Local Folders/Inbox",
        "Mail/Local Folders/Sent",
    ]
    assert not warnings
    streams = {p.name: read_source(p, warnings.append) for p in found}
    assert not warnings
    assert all(s.format == "email" for ss in streams.values() for s in ss)
    assert [u.message_id for s in streams["Inbox"] for u in s.units] == ["1@x", "2@x", "3@x"]  # 99@x was deleted
    assert [s.title for s in streams["2024"]] == ["Photos"]
    # named on its own, the index is one clear line, and the look-alike note is a note
    with pytest.raises(SourceError) as e:
        read_source(local / "Inbox.msf", warnings.append)
    assert e.value.message == f"{local / 'Inbox.msf'}: a Thunderbird index (.msf), not mail" and "Inbox" in e.value.hint
    [note] = read_source(local / "Notes", warnings.append)
    assert note.format == "text"


def test_long_header_block_is_still_mail(tmp_path):
    """Gmail and corporate servers put kilobytes of Received/DKIM headers before From: and Date:."""
    m = inbox()[0]
    raw = b"".join(b"Received: from relay%d.example.net by mx.example.org; Tue, 3 Nov 2026 14:05:00 +0000\n" % i for i in range(80)) + bytes(m)
    (tmp_path / "Inbox").write_bytes(b"From - Tue Nov 03 14:05:00 2026\n" + raw.replace(b"\r\n", b"\n"))
    [found] = iter_source_files([tmp_path], print)
    [stream] = read_source(found, print)
    assert stream.format == "email" and stream.units[0].speaker == "Ana Lima"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([b"From - Tue Nov 03 14:05:00 2026\n", b"From: a <a@b>\n", b"Subject: x\n", b"Date: y\n", b" folded\n", b"Todo: z\n", b"plain words\n", b"\n", b"\r\n", b"\xff\x00"]), max_size=12), st.binary(max_size=200))
def test_walk_sniffing_never_fails_and_takes_only_mail(tmp_path, pieces, noise):
    """A file without a suffix is taken only when read_source would read it as mail; nothing raises or warns."""
    folder = tmp_path / "box"
    folder.mkdir(exist_ok=True)
    (folder / "Inbox").write_bytes(b"".join(pieces) + noise)
    warnings = []
    found = list(iter_source_files([folder], warnings.append))
    assert not warnings
    for path in found:
        try:
            streams = read_source(path, lambda _: None)
        except SourceError:
            continue  # a mailbox whose messages are all unreadable says so in one line
        assert all(s.format == "email" for s in streams)


def test_attachments_past_the_per_message_budget_are_indexed_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(mail_module, "MAX_ATTACHMENT_BYTES_PER_MESSAGE", 2**20)
    m = mail("10@x", ANA, T0, "Logs", body="Three logs.")
    for name in ("a.txt", "b.txt", "c.txt"):
        m.add_attachment(f"{name} ferry log line\n" * 30_000, filename=name)  # 0.5 MiB each
    path = tmp_path / "x.eml"
    path.write_bytes(bytes(m))
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert list(dict.fromkeys(u.message_id for u in stream.units)) == ["10@x", "10@x attachment a.txt"]
    assert warnings == [f"{path}: 2 attachments indexed by name only or in part ('b.txt' in message <10@x>: over the 1 MiB read per message)"]


def forwarded_original() -> EmailMessage:
    original = mail("orig@x", ANA, T0.replace(day=1), "Ferry times", body="The ferry leaves at 7:40 from pier 3.\n\nOn Mon, Ben wrote:\n> When is the ferry?\n\n-- \nAna Lima")
    original.add_attachment(b"\x89PNG binary bytes " * 50, maintype="image", subtype="png", filename="pier.png")
    return original


def forwarding(filename: str | None) -> bytes:
    """Ben forwards Ana's message as an attachment (message/rfc822), as Gmail and Thunderbird do (named
    "<subject>.eml") or Outlook does (no name); Ana's message carries a photo of its own."""
    m = mail("fwd@x", BEN, T0.replace(day=2), "Fwd: Ferry times", body="See Ana's note below.")
    m.add_attachment(forwarded_original())
    [part] = [p for p in m.iter_attachments() if p.get_content_type() == "message/rfc822"]
    del part["Content-Disposition"]
    if filename:
        part.add_header("Content-Disposition", "attachment", filename=filename)
    return bytes(m)


def base64_forwarding() -> bytes:
    """A forwarded message sent base64-encoded: against RFC 2046, but some clients send it so."""
    import base64

    return (
        b"From: Ben Okafor <ben@example.org>\nSubject: Fwd: Ferry times\nDate: Mon, 02 Nov 2026 14:05:00 +0000\n"
        b"Message-ID: <fwd@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz\n\n"
        b"--zz\nContent-Type: text/plain\n\nSee Ana's note below.\n"
        b"--zz\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="Ferry times.eml"\n\n' + base64.encodebytes(bytes(forwarded_original())) + b"--zz--\n"
    )


@pytest.mark.parametrize("filename, name", [("Ferry times.eml", "Ferry times.eml"), (None, "Ferry times.eml")])
def test_a_forwarded_message_is_read_after_the_message_carrying_it(tmp_path, filename, name):
    path = tmp_path / "x.eml"
    path.write_bytes(forwarding(filename))
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert not warnings
    assert [u.message_id for u in stream.units] == ["fwd@x", f"fwd@x attachment {name}"]
    carrier, forwarded = stream.units
    assert carrier.text == f"See Ana's note below.\n[attachment: {name}]"
    assert forwarded.time == carrier.time and forwarded.speaker == "Ana Lima"
    # its sender, date and subject; its body trimmed like a message's; its own attachment by name; never base64
    assert forwarded.text == (
        "From: Ana Lima <ana@example.org>\nDate: Sun, 01 Nov 2026 14:05:00 +0000\nSubject: Ferry times\n"
        "The ferry leaves at 7:40 from pier 3.\n[attachment: pier.png]"
    )
    assert not any("iVBOR" in u.text for u in stream.units)


def test_a_base64_forwarded_message_is_decoded_and_a_big_one_named_only(tmp_path, monkeypatch):
    path = tmp_path / "x.eml"
    path.write_bytes(base64_forwarding())
    [stream] = read_source(path, print)
    assert "The ferry leaves at 7:40 from pier 3." in stream.units[1].text
    monkeypatch.setattr(mail_module, "MAX_ATTACHMENT_BYTES", 200)
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert [u.message_id for u in stream.units] == ["fwd@x"] and "[attachment: Ferry times.eml]" in stream.units[0].text
    assert warnings == [f"{path}: 1 attachment indexed by name only or in part ('Ferry times.eml' in message <fwd@x>: over the 0 MiB read per attachment)"]
