"""A throwaway PostgreSQL server for the tests that need a real one (issue 14).

Why a real server and not SQLite in its place: what breaks workers on a shared study is the
server's behaviour (table-creation races, dropped connections on a restart, authentication),
which SQLite does not have. The server is Debian's `postgresql` package (scripts/bootstrap.sh
installs it): a temporary cluster, owned by the `postgres` user when the tests run as root
(initdb refuses root), on a free local port, with password authentication over TCP, stopped
when the test session ends.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "autotune"
PASSWORD = "s3cret-pw"  # the tests check that it never appears in output


def server_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them under /usr/lib/postgresql/N/)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    bin: Path
    root: Path
    port: int
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", password: str = PASSWORD, host: str = "127.0.0.1") -> str:
        return f"postgresql://{USER}:{password}@{host}:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        cmd = [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log")]
        subprocess.run([*cmd, "-o", opts, "-w", *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self) -> None:
        """What an operator's restart does to the clients: every connection dropped, then the server back."""
        self._ctl("-m", "fast", "restart")

    def new_database(self) -> str:
        """A fresh, empty database for one test; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def throwaway_server() -> Iterator[Server]:
    """Start a temporary cluster; stop it and delete its files afterwards."""
    bin_ = server_bin()
    if bin_ is None:
        raise RuntimeError(
            "PostgreSQL is not installed: run scripts/bootstrap.sh as root, or `sudo apt-get install -y postgresql`"
        )
    root = Path(tempfile.mkdtemp(prefix="autotune-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and the server refuse to run as root
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
    server = Server(bin_, root, _free_port(), as_user)
    try:
        subprocess.run(
            [
                *as_user,
                str(bin_ / "initdb"),
                "-D",
                str(server.data),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
