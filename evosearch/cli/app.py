"""The `evosearch` command. Keep imports here light: `--help` and completion must not load torch or lancedb."""

from __future__ import annotations

import typer

from . import ask, forget, index, status, train, watch

app = typer.Typer(
    name="evosearch",
    help="Search your own notes, documents and chats by meaning and by time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)
app.command("index")(index.index)
app.command("ask")(ask.ask)
app.command("status")(status.status)
app.command("forget")(forget.forget)
app.command("watch")(watch.watch)
app.command("train")(train.train)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
