"""A throwaway PostgreSQL cluster for tests: ``initdb`` into a temporary folder, started with
``pg_ctl`` on a free loopback port, stopped and removed afterwards.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster is made and run as the
``postgres`` user (Debian's package creates it) with ``runuser``. The server binaries come from
Debian's ``postgresql`` package, which ``make test`` installs when it is missing.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.servers import free_port

DB = "coderank"
_databases = itertools.count(1)


def bin_dir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "PostgreSQL's server is not installed: run `make test` (it installs Debian's postgresql) "
        "or `apt-get install postgresql`"
    )


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class PostgresServer:
    """Start with :meth:`start`; :attr:`url` is a ``postgresql://`` URL to database ``coderank``."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="coderank-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql://{DB}@127.0.0.1:{self.port}/{DB}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _run(self, *args: str) -> None:
        subprocess.run(
            _as_server_user([str(bin_dir() / args[0]), *args[1:]]),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.folder.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", DB, "-A", "trust", "--no-sync", "-E", "UTF8"
        )
        (self.data / "postgresql.auto.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.folder}'\nfsync = off\nmax_connections = 200\n"
        )
        if os.geteuid() == 0:
            shutil.chown(self.data / "postgresql.auto.conf", "postgres", "postgres")
        self.resume()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", DB, DB)
        return self

    def fresh_database(self) -> str:
        """A new, empty database on this cluster; its ``postgresql://`` URL."""
        name = f"t{next(_databases)}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", DB, name)
        return f"postgresql://{DB}@127.0.0.1:{self.port}/{name}"

    def resume(self) -> None:
        """Start the server (again, after :meth:`pause`)."""
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "start"
        )

    def pause(self) -> None:
        """Stop the server, keeping its data (as a restart of PostgreSQL would)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.pause()
        shutil.rmtree(self.folder, ignore_errors=True)
