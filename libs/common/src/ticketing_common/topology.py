"""The platform's topology, declared once: each service's pyproject says what it is in its
`[tool.ticketing]` table, and this module reads them all.

`make dev` (ticketing_devkit.stack) runs what it reads; the deploy (ticketing_infra.catalog) takes
task counts and the load balancer's rules from it and renders the gateway's routing table from it;
the capacity model (ticketing_loadtest.mix) sizes the seed from it; tests check
docker-compose.yml and task-definitions/*.json against it. A new service is a folder under
services/ with this table, a block in docker-compose.yml and a task definition.

The keys (only `app` and `dev-port` are required):

    app = "ticketing_x.main:create_app"   # the ASGI app factory
    dev-port = 8008                       # its port under `make dev` (compose publishes it too)
    routes = ["/api/v1/x"]                # public path prefixes the gateway sends here
    database = "x"                        # owns PostgreSQL database ticketing_x
    redis = true                          # uses the shared Redis
    dynamodb-tables = ["ticketing-x"]     # DynamoDB tables it owns
    peers = ["auth"]                      # services it calls; each is healthy before it starts
    late-peers = ["booking"]              # services it calls only once running (they call it:
                                          # waiting for them would be a cycle)
    jwks = "/api/v1/auth/jwks"            # it issues tokens: where its peers fetch the keys
    edge = true                           # the gateway: routes every service's `routes`
    setup = ["migrate"]                   # one-off jobs before it starts (`python -m pkg job`)
    demo-data = ["seed"]                  # one-off jobs once the stack is up: its demo data
    tasks = { min = 2, max = 8 }          # ECS task counts (the seed's Instances column)
    load-balancer = { priority = 100, paths = ["/api/*"] }  # public: the ALB's listener rule

    [tool.ticketing.dev-env]              # settings only `make dev` gives it
    PAYMENT_PROVIDER = "local"
    [tool.ticketing.dev-provided]         # settings `make dev` makes for it: variable -> kind
    SIGNING_KEYS = "signing-keys"         # (ticketing_devkit.stack.PROVIDED lists the kinds)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

# ECS task counts of a service that declares none.
DEFAULT_TASKS = (2, 6)
_KEYS = {
    "app",
    "dev-port",
    "routes",
    "database",
    "redis",
    "dynamodb-tables",
    "peers",
    "late-peers",
    "jwks",
    "edge",
    "setup",
    "demo-data",
    "tasks",
    "load-balancer",
    "dev-env",
    "dev-provided",
}


class TopologyError(ValueError):
    """A `[tool.ticketing]` table that does not say what a service is, or services that do not
    fit together (an unknown peer, a port or route claimed twice, a start-order cycle)."""


@dataclass(frozen=True)
class Scaling:
    min_tasks: int
    max_tasks: int


@dataclass(frozen=True)
class LoadBalancerRule:
    """The ALB listener rule that sends `paths` to the service. Priorities are fixed in the
    declaration, so adding a public service never renumbers (replaces) another's rule."""

    priority: int
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    name: str  # the folder under services/: compose service, ECS service, container, SERVICE_NAME
    app: str
    dev_port: int
    routes: tuple[str, ...] = ()
    database: str | None = None
    redis: bool = False
    dynamodb_tables: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()
    late_peers: tuple[str, ...] = ()
    jwks: str | None = None
    edge: bool = False
    routes_to: tuple[str, ...] = ()  # the edge: every service with routes (derived, not declared)
    setup: tuple[str, ...] = ()
    demo_data: tuple[str, ...] = ()  # jobs that put demo data in, once the stack is up
    scaling: Scaling = Scaling(*DEFAULT_TASKS)
    load_balancer: LoadBalancerRule | None = None
    dev_env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    dev_provided: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def package(self) -> str:
        """Every package is ticketing_<folder, - as _>; its distribution ticketing-<folder>."""
        return f"ticketing_{self.name.replace('-', '_')}"

    @property
    def distribution(self) -> str:
        return f"ticketing-{self.name}"

    @property
    def dev_url(self) -> str:
        """Where it answers under `make dev`."""
        return f"http://127.0.0.1:{self.dev_port}"

    @property
    def env_prefix(self) -> str:
        """Its peers find it at <PREFIX>_URL."""
        return self.name.upper().replace("-", "_")

    @property
    def calls(self) -> tuple[str, ...]:
        """Every service it calls: the ones it declares, and for the edge those it routes to."""
        declared = self.peers + self.late_peers
        return declared + tuple(name for name in self.routes_to if name not in declared)


def _strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TopologyError(f"{where}: `{key}` must be a list of strings")
    return tuple(value)


def _mapping(table: dict[str, Any], key: str, where: str) -> Mapping[str, str]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TopologyError(f"{where}: `{key}` must be a table of strings")
    return MappingProxyType(dict(value))


def parse(name: str, table: dict[str, Any], where: str = "") -> Service:
    where = where or f"services/{name}/pyproject.toml"
    unknown = set(table) - _KEYS
    if unknown:
        raise TopologyError(f"{where}: unknown [tool.ticketing] keys {sorted(unknown)}")
    for required in ("app", "dev-port"):
        if required not in table:
            raise TopologyError(f"{where}: [tool.ticketing] needs `{required}`")
    tasks = table.get("tasks", {"min": DEFAULT_TASKS[0], "max": DEFAULT_TASKS[1]})
    if not 1 <= tasks.get("min", 0) <= tasks.get("max", 0):
        raise TopologyError(f"{where}: `tasks` needs 1 <= min <= max")
    rule = table.get("load-balancer")
    setup = _strings(table, "setup", where)
    if table.get("database") and "migrate" not in setup:
        raise TopologyError(f"{where}: a service with a `database` runs `migrate` in `setup`")
    return Service(
        name=name,
        app=str(table["app"]),
        dev_port=int(table["dev-port"]),
        routes=_strings(table, "routes", where),
        database=table.get("database"),
        redis=bool(table.get("redis", False)),
        dynamodb_tables=_strings(table, "dynamodb-tables", where),
        peers=_strings(table, "peers", where),
        late_peers=_strings(table, "late-peers", where),
        jwks=table.get("jwks"),
        edge=bool(table.get("edge", False)),
        setup=setup,
        demo_data=_strings(table, "demo-data", where),
        scaling=Scaling(int(tasks["min"]), int(tasks["max"])),
        load_balancer=(
            LoadBalancerRule(int(rule["priority"]), _strings(rule, "paths", where))
            if rule
            else None
        ),
        dev_env=_mapping(table, "dev-env", where),
        dev_provided=_mapping(table, "dev-provided", where),
    )


def _with_edge_routes(services: list[Service]) -> list[Service]:
    """The edge calls every service that owns public routes, through its route table (never
    waiting for them at start: an upstream that is down is its breaker's business)."""
    routed = tuple(s.name for s in services if s.routes)
    return [replace(s, routes_to=routed) if s.edge else s for s in services]


def gateway_routes(services: list[Service], upstream: str) -> dict[str, str]:
    """The edge's route table (its GATEWAY_ROUTES): each public path prefix to the URL of the
    service that owns it, `upstream` with {service} replaced by the service's name."""
    return {route: upstream.format(service=s.name) for s in services for route in s.routes}


def check(services: list[Service]) -> None:
    """Services that fit together, or a TopologyError saying where they do not."""
    names = {s.name for s in services}
    seen_ports: dict[int, str] = {}
    seen_routes: dict[str, str] = {}
    for service in services:
        for peer in service.calls:
            if peer not in names:
                raise TopologyError(f"{service.name} calls unknown service {peer!r}")
            if peer == service.name:
                raise TopologyError(f"{service.name} names itself as a peer")
        if service.dev_port in seen_ports:
            other = seen_ports[service.dev_port]
            raise TopologyError(f"{service.name} and {other} share dev port {service.dev_port}")
        seen_ports[service.dev_port] = service.name
        for route in service.routes:
            if route in seen_routes:
                raise TopologyError(
                    f"{route} is claimed by {seen_routes[route]} and {service.name}"
                )
            seen_routes[route] = service.name
    if sum(1 for s in services if s.edge) > 1:
        raise TopologyError("more than one service says it is the edge")
    start_order(services)  # no cycle


def start_order(services: list[Service]) -> list[list[Service]]:
    """Waves: each service comes after every one of its `peers` (late peers do not count; nor
    does a peer outside `services`, which is taken to be running)."""
    names = {s.name for s in services}
    left = list(services)
    done: set[str] = set()
    waves = []
    while left:
        wave = [s for s in left if all(p in done or p not in names for p in s.peers)]
        if not wave:
            raise TopologyError(f"the peers of {sorted(s.name for s in left)} form a cycle")
        waves.append(wave)
        done.update(s.name for s in wave)
        left = [s for s in left if s.name not in done]
    return waves


def discover(root: Path) -> list[Service]:
    """Every service under `root`/services that declares a `[tool.ticketing]` table, sorted by
    name, checked to fit together."""
    services = []
    for manifest in sorted(root.glob("services/*/pyproject.toml")):
        table = tomllib.loads(manifest.read_text()).get("tool", {}).get("ticketing")
        if table:
            services.append(parse(manifest.parent.name, table, str(manifest)))
    services = _with_edge_routes(services)
    check(services)
    return services


def main(argv: list[str] | None = None) -> None:
    """`python -m ticketing_common.topology gateway-routes ROOT UPSTREAM`: the route table as
    JSON (docker-compose.yml starts the gateway with it, from the pyprojects it mounts)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m ticketing_common.topology")
    commands = parser.add_subparsers(dest="command", required=True)
    routes = commands.add_parser("gateway-routes", help="the gateway's GATEWAY_ROUTES as JSON")
    routes.add_argument("root", type=Path, help="the folder holding services/")
    routes.add_argument("upstream", help="each service's URL, e.g. http://{service}:8000")
    args = parser.parse_args(argv)
    print(json.dumps(gateway_routes(discover(args.root), args.upstream)))


if __name__ == "__main__":
    main()
