import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text
from ticketing_common import database as database_module
from ticketing_common.app import create_service_app
from ticketing_common.database import Database, DbSession
from ticketing_common.migrations import ensure_database
from ticketing_common.redis import RedisClient
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import serve_app
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_devkit.stores import POSTGRES_ADMIN_URL, temporary_database


async def test_database_sessions_run_queries(database_url: str) -> None:
    database = Database(database_url, pool_size=2)
    await database.start()
    try:
        await database.check()
        async with database.session() as session:
            assert (await session.execute(text("SELECT 40 + 2"))).scalar_one() == 42
    finally:
        await database.stop()


async def test_a_connection_that_died_while_idle_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database restarted (or failed over) while the pool sat idle: the next session works,
    on a fresh connection, instead of failing on the dead one."""
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_S", 0.05)
    database = Database(database_url, pool_size=1, max_overflow=0)
    await database.start()
    try:
        async with database.session() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.2)
        async with database.session() as session:
            assert (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
    finally:
        await database.stop()


async def test_database_check_fails_for_a_missing_database(database_url: str) -> None:
    database = Database(database_url.rsplit("/", 1)[0] + "/does_not_exist_xyz")
    with pytest.raises(Exception, match="does_not_exist_xyz"):
        await database.start()


async def test_redis_client_pings(redis_url: str) -> None:
    client = RedisClient(redis_url)
    await client.start()
    try:
        await client.check()
        await client.client.set("k", "v")
        assert await client.client.get("k") == b"v"
    finally:
        await client.stop()


async def test_redis_client_on_a_cluster_reaches_every_slot(redis_cluster_url: str) -> None:
    client = RedisClient(redis_cluster_url, cluster=True)
    await client.start()
    try:
        await client.check()
        keys = [f"key-{n}" for n in range(50)]  # spread over the slots of all three nodes
        for key in keys:
            await client.connection.set(key, key)
        assert [await client.connection.get(key) for key in keys] == [k.encode() for k in keys]
        assert len({await client.connection.cluster_keyslot(k) for k in keys}) > 1
        with pytest.raises(RuntimeError, match="Cluster"):
            _ = client.client  # single-node code must not silently get a cluster client
    finally:
        await client.stop()


async def test_ensure_database_creates_it_once(database_url: str) -> None:
    name = "ticketing_ensure_db_test"
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await ensure_database(url)
        await ensure_database(url)  # the second call is a no-op
        assert (
            await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 1
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_text_postgresql_cannot_store_is_a_400_and_other_database_errors_a_500(
    database_url: str,
) -> None:
    router = APIRouter()

    @router.post("/echo")
    async def echo(body: dict[str, Any], db: DbSession) -> Any:
        return (await db.execute(text("SELECT CAST(:value AS jsonb)"), body)).scalar_one()

    @router.get("/broken")
    async def broken(db: DbSession) -> Any:
        return (await db.execute(text("SELECT * FROM no_such_table"))).all()

    app = create_service_app(
        ServiceSettings(service_name="t"),
        title="t",
        routers=[router],
        resources=[Database(database_url, pool_size=2)],
    )
    with serve_app(app) as url:
        assert httpx.post(f"{url}/echo", json={"value": '{"a": "b"}'}).json() == {"a": "b"}
        for value in ('{"a": "\\u0000"}', "\x00"):
            # the same in a text column (22021) and in a jsonb string (22P05)
            assert_problem(httpx.post(f"{url}/echo", json={"value": value}), 400)
        response = httpx.get(f"{url}/broken")
        assert_problem(response, 500)
        assert "no_such_table" not in response.text


_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("SELECT pg_sleep(1)")  # long enough for the other replica to arrive meanwhile
    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True))
"""
_UPGRADE = """
import sys
from pathlib import Path
from ticketing_common.migrations import upgrade
upgrade(sys.argv[1], Path(sys.argv[2]))
"""


def test_migrations_started_together_run_one_after_the_other(tmp_path: Path) -> None:
    """Two replicas applying the same migrations at once (compose runs a service's setup in each
    of its containers): the second waits for the first, then finds the schema at head."""
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "0001_things.py").write_text(_MIGRATION)
    (tmp_path / "env.py").write_text(
        "from sqlalchemy import MetaData\n"
        "from ticketing_common.migrations import run_migrations\n\n"
        "run_migrations(MetaData())\n"
    )
    (tmp_path / "script.py.mako").write_text("")
    with temporary_database("migrations") as url:
        replicas = [
            subprocess.Popen(
                [sys.executable, "-c", _UPGRADE, url, str(tmp_path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [replica.communicate(timeout=120)[0] for replica in replicas]
        assert [replica.returncode for replica in replicas] == [0, 0], outputs

        async def applied() -> tuple[int, list[str]]:
            conn = await asyncpg.connect(url.replace("+asyncpg", ""))
            try:
                things = await conn.fetchval("SELECT count(*) FROM things")
                versions = [row[0] for row in await conn.fetch("SELECT * FROM alembic_version")]
            finally:
                await conn.close()
            return things, versions

        assert asyncio.run(applied()) == (0, ["0001"])
