from ticketing_api_gateway.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, cooldown_s=5, clock=clock)


def test_opens_after_n_consecutive_failures_only() -> None:
    clock = Clock()
    subject = breaker(clock)
    subject.record_failure()
    subject.record_failure()
    subject.record_success()  # the streak is broken
    subject.record_failure()
    subject.record_failure()
    assert subject.allow()
    assert subject.state is BreakerState.CLOSED
    subject.record_failure()
    assert subject.state is BreakerState.OPEN
    assert not subject.allow()
    assert subject.retry_after_s() == 5


def test_after_the_cooldown_exactly_one_probe_goes_through() -> None:
    clock = Clock()
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 4.9
    assert not subject.allow()
    assert subject.retry_after_s() == 1
    clock.now += 0.2
    assert subject.state is BreakerState.HALF_OPEN
    assert subject.allow()  # the probe
    assert not subject.allow()  # everyone else waits for its answer
    subject.record_success()
    assert subject.state is BreakerState.CLOSED
    assert subject.allow()


def test_a_failed_probe_opens_again_for_a_full_cooldown() -> None:
    clock = Clock()
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5
    assert subject.allow()
    subject.record_failure()  # one failure is enough in half-open
    assert subject.state is BreakerState.OPEN
    clock.now += 4
    assert not subject.allow()
    clock.now += 1
    assert subject.allow()


def test_a_probe_that_told_nothing_lets_the_next_request_probe() -> None:
    clock = Clock()
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5
    assert subject.allow()
    subject.release_probe()
    assert subject.allow()
