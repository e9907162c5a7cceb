from ticketing_auth.tables import metadata
from ticketing_common.migrations import run_migrations

run_migrations(metadata)
