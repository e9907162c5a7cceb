from ticketing_common.migrations import run_migrations
from ticketing_payment.tables import metadata

run_migrations(metadata)
