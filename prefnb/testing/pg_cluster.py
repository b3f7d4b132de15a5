"""A throwaway PostgreSQL cluster for tests and benches: Debian's server, no Docker.

``initdb`` + ``pg_ctl`` in a temporary directory, listening on a free 127.0.0.1 port and a
Unix socket inside that directory. PostgreSQL refuses to run as root, so under root (CI)
the server runs as the ``postgres`` system user through ``runuser``; otherwise as the
current user. Passwords use SCRAM over TCP, so the credential paths are the real ones.

:meth:`PgCluster.label_store_url` makes what a team has: a database owned by a
non-superuser owner that created the label schema, and a labeling role with only
:func:`prefnb.labels.postgres.labeling_grants`.

Example (skipped where the server binaries are absent)::

    with PgCluster() as pg:
        url = pg.label_store_url("prefs")           # postgresql://labeler:…@127.0.0.1:…/prefs
        store = prefnb.LabelStore(url)
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Final

__all__ = ["INSTALL_HINT", "PgCluster", "find_pg_bin"]

INSTALL_HINT: Final = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found; install them with "
    "`apt-get install -y postgresql` (Debian/Ubuntu) or put their directory on PATH"
)
OWNER: Final = "prefnb_owner"
LABELER: Final = "labeler"


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (newest Debian version first)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """A PostgreSQL cluster in a temporary directory; ``stop``/``start`` keep its data."""

    def __init__(self) -> None:
        bindir = find_pg_bin()
        if bindir is None:
            raise RuntimeError(INSTALL_HINT)
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="prefnb-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.superuser = "prefnb_super"
        self.passwords = {
            self.superuser: secrets.token_hex(12),
            OWNER: secrets.token_hex(12),
            LABELER: secrets.token_hex(12),
        }
        if self.as_root:
            # The server runs as `postgres`; it needs to own its directory.
            shutil.chown(self.dir, user="postgres", group="postgres")
            self.dir.chmod(0o700)
        pwfile = self.dir / "pw"
        pwfile.write_text(self.passwords[self.superuser])
        if self.as_root:
            shutil.chown(pwfile, user="postgres", group="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.superuser,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        self.start()

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.dir)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the server (``pg_ctl start -w``) on its port and socket."""
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=60 -c shared_buffers=32MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", opts,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` rolls back open transactions, ``immediate`` crashes)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def close(self) -> None:
        """Stop the server if running and delete its directory."""
        if self.running:
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")
        if self.running:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- roles and databases -----------------------------------------------------------

    def url(self, role: str, database: str = "postgres", *, password: bool = True) -> str:
        """A TCP URL for ``role`` (with its password unless ``password=False``)."""
        secret = f":{self.passwords[role]}" if password else ""
        return f"postgresql://{role}{secret}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres") -> Any:
        """An autocommit superuser psycopg connection (to set up roles, kill backends)."""
        import psycopg

        return psycopg.connect(self.url(self.superuser, database), autocommit=True)

    def _ensure_roles(self) -> None:
        with self.admin() as conn:
            for role in (OWNER, LABELER):
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if exists.fetchone() is None:
                    # Neither role is a superuser: the tests run as what a team would use.
                    conn.execute(
                        f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                        f"PASSWORD '{self.passwords[role]}'"
                    )

    def label_store_url(self, database: str, *, migrate: bool = True) -> str:
        """Create ``database`` owned by the owner role, create the label schema as that
        owner (unless ``migrate=False``), grant the labeling role; return the labeling
        role's URL."""
        from prefnb.labels import LabelStore
        from prefnb.labels.postgres import labeling_grants

        self._ensure_roles()
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{database}" OWNER "{OWNER}"')
        with self.admin(database) as conn:
            # PostgreSQL 15 no longer lets everyone create in public; the owner needs it.
            conn.execute(f'ALTER SCHEMA public OWNER TO "{OWNER}"')
            conn.execute(f'REVOKE CREATE ON SCHEMA public FROM "{LABELER}"')
        if migrate:
            LabelStore(self.url(OWNER, database)).close()
            import psycopg

            with psycopg.connect(self.url(OWNER, database), autocommit=True) as conn:
                for statement in labeling_grants(LABELER, database):
                    conn.execute(statement)
        return self.url(LABELER, database)
