"""The capacity model: from measured per-core throughput of each service operation to the number
of 0.5 vCPU tasks each service needs for a given public request rate of the on-sale mix.

    rate(service, operation) = total public req/s x share of each public request that reaches it
                               (mix.FLOWS -> shares, mix.PUBLIC_REQUESTS -> the fan-out)
    vCPU(service)            = sum over its operations of rate / measured requests per
                               CPU-second of one core (Measurement.per_core)
    tasks(service)           = ceil(vCPU / (task vCPU x target utilisation)), at least the seed's
                               minimum; compared with the seed's maximum
    headroom(service)        = 1 - tasks / the seed's maximum (the target: at least 30 %)

With a CDN in front (`edge_hit_ratio`), the edge-cacheable public requests (mix.PublicRequest)
reach the gateway and the services only on a miss; the model shows both, so nobody mistakes a
cache for a faster service.

The waiting room (`room_load`) is sized apart from the mix: at an on-sale, people arrive at a
rate for a while and wait; the gateway answers their joins and polls itself, and only the
admitted reach the seat map and inventory, at the room's admission rate.

One core of this machine stands for one vCPU. The target utilisation is the seed's autoscaling
target (70 % CPU): tasks run at it in steady state, the rest is headroom for the scale-out lag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ticketing_loadtest.mix import (
    PUBLIC_REQUESTS,
    SEED_TASKS,
    TASK_VCPU,
    PublicRequest,
    operation_rates,
    request_shares,
)

TARGET_UTILISATION = 0.7
HEADROOM = 0.3  # what a service keeps below its seed maximum


@dataclass(frozen=True)
class Measurement:
    """One operation's throughput on one pinned core, next to the hello-world of the same run."""

    service: str
    operation: str
    rps: float
    baseline_rps: float
    p99: str = ""
    how: str = ""  # what was requested, for the table
    cpu_rps: float = 0.0  # requests per CPU-second the server spent during the measurement
    # The hello-world's requests per CPU-second in the same run (0: not sampled).
    baseline_cpu_rps: float = 0.0
    # Normalise to a core on which the hello-world does this many req/s (0: as measured): on a
    # busy machine each figure is scaled by the hello of its own run, as the targets are stated —
    # by the hello's requests per CPU-second when sampled (a CPU-second figure compared with a
    # CPU-second figure: the time the neighbours took from the core is in neither), else by its
    # req/s.
    reference_hello: float = 0.0

    @property
    def measured_per_core(self) -> float:
        """Requests per CPU-second when it was measured (a server waiting on its peers, which
        share the other core here, is not at 100 % of its core, so req/s alone would understate
        it), else the req/s measured."""
        return self.cpu_rps or self.rps

    @property
    def per_core(self) -> float:
        """What one core of this service serves: as measured, or scaled to the reference core."""
        hello = self.baseline_cpu_rps or self.baseline_rps
        if self.reference_hello and hello:
            return self.measured_per_core * self.reference_hello / hello
        return self.measured_per_core

    @property
    def key(self) -> str:
        return f"{self.service}/{self.operation}"

    @property
    def ratio(self) -> float:
        return self.rps / self.baseline_rps if self.baseline_rps else 0.0


@dataclass(frozen=True)
class ServiceNeed:
    service: str
    rps: float  # requests reaching the service (every operation)
    vcpu: float
    tasks: int
    seed_min: int
    seed_max: int
    unmeasured: tuple[str, ...]  # operations with no measurement (their cost is not in vcpu)

    @property
    def fits(self) -> bool:
        return self.tasks <= self.seed_max

    @property
    def headroom(self) -> float:
        """How far below the seed's maximum the tasks stay (0.3: 30 % of the maximum left)."""
        return 1 - self.tasks / self.seed_max if self.seed_max else 0.0


def cost_key(service: str, operation: str, requests: Mapping[str, PublicRequest]) -> str:
    """The measurement an operation's cost comes from (itself, or the one it is measured as)."""
    for request in requests.values():
        for call in request.calls:
            if (call.service, call.operation) == (service, operation) and call.measured_as:
                return call.measured_as
    return f"{service}/{operation}"


def tasks_for(
    vcpu: float,
    *,
    task_vcpu: float = TASK_VCPU,
    utilisation: float = TARGET_UTILISATION,
    minimum: int = 1,
) -> int:
    if vcpu < 0 or task_vcpu <= 0 or not 0 < utilisation <= 1:
        raise ValueError("vCPU must be >= 0, task size > 0 and utilisation in (0, 1]")
    # Rounded to 9 places first, so 1.4 / 0.35 = 4.000000000000001 is 4 tasks, not 5.
    return max(minimum, math.ceil(round(vcpu / (task_vcpu * utilisation), 9)))


def needs(
    total_rps: float,
    measurements: Mapping[str, Measurement],
    *,
    shares: Mapping[str, float] | None = None,
    requests: Mapping[str, PublicRequest] = PUBLIC_REQUESTS,
    seed: Mapping[str, tuple[int, int]] = SEED_TASKS,
    utilisation: float = TARGET_UTILISATION,
    edge_hit_ratio: float = 0.0,
) -> list[ServiceNeed]:
    rates = operation_rates(total_rps, shares or request_shares(), requests, edge_hit_ratio)
    by_service: dict[str, dict[str, float]] = {}
    for (service, operation), rate in rates.items():
        by_service.setdefault(service, {})[operation] = rate
    result = []
    for service in sorted(set(by_service) | set(seed)):
        operations = by_service.get(service, {})
        vcpu = 0.0
        unmeasured = []
        for operation, rate in sorted(operations.items()):
            measured = measurements.get(cost_key(service, operation, requests))
            if measured is None or measured.per_core <= 0:
                unmeasured.append(operation)
                continue
            vcpu += rate / measured.per_core
        seed_min, seed_max = seed.get(service, (1, 0))
        result.append(
            ServiceNeed(
                service=service,
                rps=sum(operations.values()),
                vcpu=vcpu,
                tasks=tasks_for(vcpu, utilisation=utilisation, minimum=seed_min),
                seed_min=seed_min,
                seed_max=seed_max,
                unmeasured=tuple(unmeasured),
            )
        )
    return result


# The gateway's poll interval (ticketing_api_gateway.waiting_room.poll_after_waiting), restated:
# about four polls over a person's estimated wait, between 2 and 30 s.
POLL_MIN_S, POLL_MAX_S, POLLS_PER_WAIT = 2, 30, 4


def poll_interval(position: int, admission_per_minute: float) -> float:
    wait_s = position * 60 / admission_per_minute
    return min(POLL_MAX_S, max(POLL_MIN_S, math.ceil(wait_s / POLLS_PER_WAIT)))


def polls_per_second(waiting: int, admission_per_minute: float) -> float:
    """What `waiting` people polling at the room's pace ask per second."""
    return sum(1 / poll_interval(i, admission_per_minute) for i in range(1, waiting + 1))


@dataclass(frozen=True)
class RoomLoad:
    arrivals_per_s: float
    arrival_s: float  # how long the crowd keeps arriving
    admission_per_minute: int
    peak_waiting: int
    joins_per_s: float  # while the crowd arrives
    peak_polls_per_s: float
    admitted_per_s: float  # what moves on to the seat map and inventory
    vcpu: float  # the gateway's, for the peak of joins and polls
    measured: bool

    @property
    def peak_room_rps(self) -> float:
        return self.joins_per_s + self.peak_polls_per_s

    @property
    def arrivals(self) -> int:
        return round(self.arrivals_per_s * self.arrival_s)


def room_load(
    arrivals_per_s: float,
    arrival_s: float,
    admission_per_minute: int,
    measurements: Mapping[str, Measurement],
) -> RoomLoad:
    """The room at the moment it is fullest: everyone who arrived less those admitted."""
    admitted_per_s = admission_per_minute / 60
    peak = max(0, round((arrivals_per_s - admitted_per_s) * arrival_s))
    polls = polls_per_second(peak, admission_per_minute)
    poll = measurements.get("api-gateway/room-poll")
    per_core = poll.per_core if poll is not None else 0.0
    return RoomLoad(
        arrivals_per_s=arrivals_per_s,
        arrival_s=arrival_s,
        admission_per_minute=admission_per_minute,
        peak_waiting=peak,
        joins_per_s=arrivals_per_s,
        peak_polls_per_s=polls,
        admitted_per_s=admitted_per_s,
        vcpu=(arrivals_per_s + polls) / per_core if per_core else 0.0,
        measured=per_core > 0,
    )


def render_room(loads: list[RoomLoad]) -> str:
    lines = [
        "| crowd arriving | admitted per minute | most waiting at once | joins/s | polls/s at "
        "the peak | gateway vCPU for the room | moving on to inventory |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for load in loads:
        vcpu = f"{load.vcpu:.2f}" if load.measured else "not measured"
        lines.append(
            f"| {load.arrivals_per_s:,.0f}/s for {load.arrival_s:.0f} s ({load.arrivals:,} "
            f"people) | {load.admission_per_minute:,} | {load.peak_waiting:,} "
            f"| {load.joins_per_s:,.0f} | {load.peak_polls_per_s:,.0f} | {vcpu} "
            f"| {load.admitted_per_s:,.1f} people/s |"
        )
    return "\n".join(lines)


def render_measurements(measurements: Mapping[str, Measurement]) -> str:
    reference = next((m.reference_hello for m in measurements.values() if m.reference_hello), 0)
    head = (
        "| operation | request measured | req/s on one pinned core | hello-world req/s (same run) "
        "| ratio | p99 | req per CPU-second"
    )
    if reference:
        head += (
            f" | hello's req per CPU-second | scaled to a {reference:,.0f} req/s hello "
            "(used by the model) |"
        )
        rule = "|---|---|---:|---:|---:|---|---:|---:|---:|"
    else:
        head += " (used by the model) |"
        rule = "|---|---|---:|---:|---:|---|---:|"
    lines = [head, rule]
    for m in sorted(measurements.values(), key=lambda m: m.key):
        line = (
            f"| {m.key} | {m.how} | {m.rps:,.0f} | {m.baseline_rps:,.0f} | {m.ratio:.3f} "
            f"| {m.p99} | {m.measured_per_core:,.0f} |"
        )
        if reference:
            hello = f"{m.baseline_cpu_rps:,.0f}" if m.baseline_cpu_rps else "not sampled"
            line += f" {hello} | {m.per_core:,.0f} |"
        lines.append(line)
    return "\n".join(lines)


def _verdict(need: ServiceNeed) -> str:
    if need.unmeasured and need.vcpu == 0:
        return f"not measured ({', '.join(need.unmeasured)})"
    if not need.fits:
        verdict = f"**over the seed's max by {need.tasks - need.seed_max}**"
    elif need.headroom < HEADROOM:
        verdict = f"fits, **{need.headroom:.0%} headroom**"
    else:
        verdict = f"fits, {need.headroom:.0%} headroom"
    if need.unmeasured:
        verdict += f" (+ unmeasured: {', '.join(need.unmeasured)})"
    return verdict


def render_needs(
    total_rps: float,
    result: list[ServiceNeed],
    cached: list[ServiceNeed] | None = None,
    edge_hit_ratio: float = 0.0,
) -> str:
    """One table; with `cached` (the same mix behind a CDN at `edge_hit_ratio`) a second set of
    columns beside the first."""
    head = (
        f"| service | req/s reaching it at {total_rps:,.0f} public req/s | vCPU needed "
        f"| tasks of {TASK_VCPU} vCPU at {TARGET_UTILISATION:.0%} | seed min-max | verdict |"
    )
    rule = "|---|---:|---:|---:|---|---|"
    if cached is not None:
        at = f"{edge_hit_ratio:.0%} edge hits"
        head += f" with {at}: req/s | vCPU | tasks | verdict |"
        rule += "---:|---:|---:|---|"
    lines = [head, rule]
    behind = {need.service: need for need in cached or []}
    for need in result:
        line = (
            f"| {need.service} | {need.rps:,.0f} | {need.vcpu:.2f} | {need.tasks} "
            f"| {need.seed_min}-{need.seed_max} | {_verdict(need)} |"
        )
        if (edge := behind.get(need.service)) is not None:
            line += f" {edge.rps:,.0f} | {edge.vcpu:.2f} | {edge.tasks} | {_verdict(edge)} |"
        lines.append(line)
    cells = ["**total**", "", f"**{sum(n.vcpu for n in result):.2f}**"]
    cells += [str(sum(n.tasks for n in result)), "", ""]
    if cached is not None:
        cells += ["", f"**{sum(n.vcpu for n in cached):.2f}**", str(sum(n.tasks for n in cached))]
        cells.append("")
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_shares(shares: Mapping[str, float]) -> str:
    parts = [f"{kind} {share:.1%}" for kind, share in sorted(shares.items(), key=lambda kv: -kv[1])]
    return ", ".join(parts)
