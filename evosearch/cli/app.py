"""The `evosearch` command. Keep imports here light: `--help` and completion must not load torch or lancedb."""

from __future__ import annotations

import os

# numpy's OpenBLAS with one thread: numpy's products here are tiny (the memory read in `index`, a
# query in `ask` before the first `index` has built the ONNX model), where a second BLAS thread
# gains nothing alone and, beside a busy `index` or `watch`, makes threads wait on each other
# (benchmarks/query_paths.py runs with the same setting). Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402
from typer.core import TyperArgument, TyperCommand  # noqa: E402

from . import ask, forget, index, mcp, recent, show, status, train, watch  # noqa: E402


def _argument_usage(self) -> str:
    """PATH... and [QUERY]: the metavar as given, in brackets when optional (Typer writes {PATH}...)."""
    name = self.metavar or self.name.upper()
    if self.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name if self.required else f"[{name}]"


# Typer prints an argument's Python type beside its name in --help ("<list[Path]>", "<str>");
# the metavar already says what to type.
TyperArgument.display_type_rich = lambda self, ctx: None
TyperArgument._usage_display_name = _argument_usage

app = typer.Typer(
    name="evosearch",
    help="Search your own notes, documents and chats by meaning and by time.",
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"evosearch {version('evosearch')}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        Optional[bool], typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True)
    ] = None,
) -> None:
    """Search your own notes, documents and chats by meaning and by time."""
    if ctx.invoked_subcommand is None:  # bare `evosearch`: the help, and success
        typer.echo(ctx.get_help())
        raise typer.Exit()


class _IndexCommand(TyperCommand):
    """`index --help` lists the formats from the readers' registry, which is imported only then:
    every other command, and completion, start without loading the readers."""

    def format_help_text(self, ctx, formatter) -> None:
        self.help = index.help_text()
        super().format_help_text(ctx, formatter)


app.command("index", cls=_IndexCommand)(index.index)
app.command("ask")(ask.ask)
app.command("status")(status.status)
app.command("forget")(forget.forget)
app.command("watch")(watch.watch)
app.command("train")(train.train)
app.command("show")(show.show)
app.command("recent")(recent.recent)
app.command("mcp")(mcp.mcp)


def main() -> None:
    # Files evosearch writes (the index's tables, the lock, a --log) are the user's alone: lance
    # creates its files with the default mode, 0644 under the usual umask.
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
