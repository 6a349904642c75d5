"""A background `watch`: the systemd user unit or launchd agent that runs it at login.

The file carries what the command was given, as absolute paths, because a service starts
elsewhere, without the shell's environment: the folders, the index, the log and the EVOSEARCH_*
variables that choose the data dir and the model.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .config import db_uri
from .errors import EvosearchError
from .watch import check_folders

DEFAULT_SERVICE_LOG = "~/.local/state/evosearch-watch.log"

# What a service started outside this shell must still see to watch the same index with the same model.
SERVICE_ENV_VARS = ("EVOSEARCH_HOME", "EVOSEARCH_MODEL", "EVOSEARCH_ENCODER")
SERVICE_KINDS = ("systemd", "launchd")
SYSTEMD_UNIT_PATH = "~/.config/systemd/user/evosearch-watch.service"
LAUNCHD_AGENT_LABEL = "org.evosearch.watch"


def service_file(kind: str, argv: list[str], env: dict[str, str]) -> str:
    """A systemd user unit (kind "systemd") or a launchd agent ("launchd") that runs argv with env
    set, starting with a comment that says where to save it and how to start it."""
    env = {"HF_HUB_OFFLINE": "1", **env}  # the model is bundled: never wait on the network at login
    if kind == "systemd":
        environment = "".join(f"Environment={systemd_word(f'{k}={v}', exec_line=False)}\n" for k, v in env.items())
        return (
            f"# {SYSTEMD_UNIT_PATH}\n"
            "# then: systemctl --user daemon-reload && systemctl --user enable --now evosearch-watch\n"
            "[Unit]\nDescription=evosearch background indexer\n\n"
            f"[Service]\nExecStart={' '.join(systemd_word(a) for a in argv)}\n{environment}Restart=on-failure\n\n"
            "[Install]\nWantedBy=default.target\n"
        )
    if kind == "launchd":
        import plistlib

        agent = {"Label": LAUNCHD_AGENT_LABEL, "ProgramArguments": argv, "EnvironmentVariables": env, "RunAtLoad": True, "KeepAlive": True}
        xml = plistlib.dumps(agent).decode()  # escapes &, < and > as XML needs
        declaration, rest = xml.split("\n", 1)
        where = f"~/Library/LaunchAgents/{LAUNCHD_AGENT_LABEL}.plist"
        return f"{declaration}\n<!-- {where}\n     then: launchctl load {where} -->\n{rest}"
    raise ValueError(f"unknown service kind {kind!r}; one of {', '.join(SERVICE_KINDS)}")


# Characters systemd reads specially inside a word: quotes, the escape itself, whitespace (which
# would end the word unquoted) and control characters (a raw newline would end the line).
_SYSTEMD_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def systemd_word(value: str, exec_line: bool = True) -> str:
    """value as one word of a unit file line, read back by systemd as exactly value: '%' doubled
    (specifiers are expanded everywhere), '$' doubled on ExecStart= (variables are expanded
    there, not in Environment=), and double-quoted with C escapes when it holds anything a bare
    word cannot (systemd.syntax(7), systemd.service(5) "Command lines")."""
    value = value.replace("%", "%%")
    if exec_line:
        value = value.replace("$", "$$")
    if value and not any(c.isspace() or c in "\\\"'" or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return value
    escaped = "".join(_SYSTEMD_ESCAPES.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in value)
    return f'"{escaped}"'


def watch_service(kind: str, folders: list[Path], db: str | None, log: Path | None) -> str:
    """The service file (kind "systemd" or "launchd") that runs `evosearch watch` on folders,
    writing to db (--db or $EVOSEARCH_DB, else the default index) and appending to log."""
    check_folders(folders)
    exe = shutil.which("evosearch") or str(Path(sys.argv[0]).resolve())
    log_path = os.path.abspath((log or Path(DEFAULT_SERVICE_LOG)).expanduser())
    argv = [exe, "watch", *(str(f.expanduser().resolve()) for f in folders), "--quiet", "--log", log_path, "--db", db_uri(db)]
    env = {name: os.environ[name] for name in SERVICE_ENV_VARS if os.environ.get(name)}
    try:
        return service_file(kind, argv, env)
    except ValueError as e:  # plistlib refuses control characters, which XML cannot hold
        raise EvosearchError(f"cannot write a {kind} file for these paths: {e}", "rename the folder or pass other paths") from None
