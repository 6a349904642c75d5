"""One folder holding every format of issue 21: `index` reads them all and `status` counts them under their names."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from evosearch.cli.app import app
from tests.test_sources_epub import book_bytes
from tests.test_sources_google_chat import write_takeout
from tests.test_sources_imessage import build_chat_db
from tests.test_sources_mail import inbox, mbox_bytes
from tests.test_sources_meta import write_thread
from tests.test_sources_odt import odt_bytes
from tests.test_sources_word import word_document


def test_index_and_status_name_every_new_format(tmp_path):
    folder = tmp_path / "life"
    folder.mkdir()
    (folder / "plan.docx").write_bytes(word_document())
    (folder / "trip.odt").write_bytes(odt_bytes())
    (folder / "orchard.epub").write_bytes(book_bytes(tmp_path))
    (folder / "mail.mbox").write_bytes(mbox_bytes(inbox()))
    build_chat_db(folder / "chat.db")
    write_thread(folder / "facebook" / "messages" / "inbox" / "zoe_1")
    write_thread(folder / "your_instagram_activity" / "messages" / "inbox" / "zoe_2", instagram=True)
    write_takeout(folder)
    runner = CliRunner()
    result = runner.invoke(app, ["index", str(folder)])
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert stats["formats"] == {
        "docx": 1, "odt": 1, "epub": 1, "email": 1, "imessage": 1, "messenger": 1, "instagram": 1, "google-chat": 1,
    }
    result = runner.invoke(app, ["ask", "bring the rope", "--json"])
    assert result.exit_code == 0 and any(r["format"] == "imessage" for r in json.loads(result.stdout)["results"])
