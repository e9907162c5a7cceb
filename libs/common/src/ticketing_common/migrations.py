"""Alembic, driven from code: each service's `migrate` command calls `upgrade()`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection, make_url

log = logging.getLogger(__name__)

# The advisory lock key migrations hold (any constant: each service has a database of its own).
MIGRATION_LOCK = 7_001_015


def migrations_dir(package_file: str) -> Path:
    """Where a service's migrations live: inside the installed wheel (`<pkg>/migrations`), or in
    the service folder next to `src/` in a source checkout."""
    package = Path(package_file).resolve().parent
    for candidate in (package / "migrations", package.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError(f"no migrations found near {package}")


async def ensure_database(database_url: str) -> None:
    """Create the service's database if it does not exist yet (dev and test convenience; in
    production the database is provisioned with the cluster)."""
    url = make_url(database_url)
    name = url.database
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                return  # another replica's migrate created it meanwhile
            log.info("created database", extra={"database": name})
    finally:
        await conn.close()


def upgrade(database_url: str, script_location: Path, revision: str = "head") -> None:
    asyncio.run(ensure_database(database_url))
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, revision)


def run_migrations(target_metadata: MetaData) -> None:
    """The body of every service's alembic `env.py` (async engine, online or offline)."""
    from alembic import context
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            # One migrator at a time: replicas that start together (compose runs a service's
            # setup in each of its containers) wait here, then find the schema at head. The lock
            # goes with the transaction, which holds every migration (PostgreSQL's DDL is
            # transactional).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    asyncio.run(run())
