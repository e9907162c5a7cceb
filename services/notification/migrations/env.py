from ticketing_common.migrations import run_migrations
from ticketing_notification.tables import metadata

run_migrations(metadata)
