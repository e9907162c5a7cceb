"""The chaos run's own tools: it flushes only the stack's database and refuses anything that is
not on this machine. (The run itself needs `make dev`:
`make chaos`, see loadtest/README.md.)"""

import pytest
import redis
from ticketing_devkit.stores import temporary_redis_db
from ticketing_loadtest import chaos


def test_the_flush_empties_only_the_stacks_database() -> None:
    with temporary_redis_db() as stack_url, temporary_redis_db() as neighbour_url:
        stack, neighbour = redis.Redis.from_url(stack_url), redis.Redis.from_url(neighbour_url)
        try:
            stack.set("inv:epoch", "1")
            stack.set("bus:done:x", "done")
            neighbour.set("someone-elses-test", "keep me")
            assert chaos.flush_stack_redis(stack_url) == 2
            assert stack.dbsize() == 0
            assert neighbour.get("someone-elses-test") == b"keep me"
        finally:
            stack.close()
            neighbour.close()


def test_a_redis_elsewhere_is_refused() -> None:
    with pytest.raises(SystemExit, match="not on this machine"):
        chaos.main(["--redis-url", "redis://10.0.0.5:6379/0"])


def test_the_runs_bounds_are_checked() -> None:
    with pytest.raises(SystemExit):
        chaos.main(["--workers", "1000"])
    with pytest.raises(SystemExit):
        chaos.main(["--flush-at", "50", "--kill-at", "40"])
