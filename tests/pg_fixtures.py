"""PostgreSQL fixtures (imported by tests/conftest.py): a throwaway cluster started by the tests.

Debian's server binaries run as a non-root user (``postgres`` under root, as in CI); each
test gets its own database, created by a non-superuser owner, used through a labeling role
with only the documented grants. Tests skip only where the binaries are absent, saying how
to install them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from prefnb.testing.pg_cluster import INSTALL_HINT, PgCluster, find_pg_bin

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One cluster for the session (initdb takes seconds); tests that stop it use their own."""
    if find_pg_bin() is None:
        pytest.skip(INSTALL_HINT)
    cluster = PgCluster()
    yield cluster
    cluster.close()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A fresh label-store database; the URL of its (non-superuser) labeling role."""
    return pg_cluster.label_store_url(f"prefs_{next(_names)}")


@pytest.fixture
def own_cluster() -> Iterator[PgCluster]:
    """A cluster of this test alone, for tests that stop, crash or restart the server."""
    if find_pg_bin() is None:
        pytest.skip(INSTALL_HINT)
    cluster = PgCluster()
    yield cluster
    cluster.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A new store on each backend: a SQLite path, or a PostgreSQL labeling role's URL."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("store") / "labels.sqlite")
    return str(request.getfixturevalue("pg_url"))
