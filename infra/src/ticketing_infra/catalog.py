"""Which services exist and how each one runs in production.

The services are discovered from `task-definitions/*.json` (one file per service, the one source of
truth for its containers), so a new service joins the CDK app and the deploy by adding its task
definition. What a task definition cannot say lives in the table below: the seed's task counts and
which services the load balancer exposes. A service missing from the table runs with
`DEFAULT_SCALING` and stays internal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
TASK_DEFINITIONS_DIR = REPO_ROOT / "task-definitions"

PROJECT = "ticketing"
CLUSTER_NAME = "ticketing-cluster"
SERVICE_CONNECT_NAMESPACE = "ticketing.local"
CONTAINER_PORT = 8000
HEALTH_PATH = "/health"
# The ALB closes a connection idle this long; the gateway must keep its side open longer.
ALB_IDLE_TIMEOUT_SECONDS = 60
EXECUTION_ROLE_NAME = "ticketing-ecs-execution"
BOOKINGS_TABLE = "ticketing-bookings"
DB_INSTANCE_ID = "ticketing-postgres"
DEPLOY_PARAMETER = "/ticketing/deploy/platform"
EDGE_PARAMETER = "/ticketing/deploy/edge"
EDGE_REGION = "us-east-1"  # CloudFront, its certificate and its WAF web ACL live only there


@dataclass(frozen=True)
class Scaling:
    min_tasks: int
    max_tasks: int


# The seed guide's service table (Instances column).
SEED_SCALING: dict[str, Scaling] = {
    "api-gateway": Scaling(2, 10),
    "auth": Scaling(2, 8),
    "events": Scaling(2, 8),
    "booking": Scaling(3, 15),
    "payment": Scaling(2, 10),
    "search": Scaling(2, 6),
    "notification": Scaling(2, 6),
    "inventory": Scaling(3, 15),
}
DEFAULT_SCALING = Scaling(2, 6)

# ALB listener rule (priority, path patterns) per public service. Only the gateway is public: it
# is the edge (routing, JWT checks, rate limits, request ids) and serves every public path of
# API.md; a rule sending /api/v1/<x>/* straight to a service would bypass its rate limits.
# Priorities are fixed here so adding a public service never renumbers (replaces) other rules.
PUBLIC_PATHS: dict[str, tuple[int, tuple[str, ...]]] = {
    "api-gateway": (100, ("/api/*", "/status")),
}

# The API paths CloudFront may cache (infra/cdk/edge.py): the public reads whose answers say
# `Cache-Control: public` and tolerate seconds of staleness or never change (an event, its layout
# and the listing; search and suggestions). Whatever else answers under these patterns (a seat
# map, a draft, the console's lists) carries no public Cache-Control and is not kept; every other
# path is never cached.
EDGE_CACHED_API_PATHS = ("/api/v1/events", "/api/v1/events/*", "/api/v1/search/*")

# How each service is released (the CDK app configures it, `make deploy` follows it). A public
# service gets ECS blue/green: a full green task set behind the ALB's second target group, all
# production traffic shifted by the listener rule at once, then a bake time in which either alarm
# below (or the post-deploy smoke) shifts it straight back to blue, whose tasks are still up.
# Internal services roll: they are reached only through Service Connect, whose proxies already
# drain old tasks request by request (no traffic switch to make), and blue/green would double
# every service's task count during each release's bake, far over the seed's task budget.
# Rolling keeps the circuit breaker and the same edge alarms: a release of booking that makes the
# API fail is rolled back on the API's 5xx rate too.
BLUE_GREEN = "BLUE_GREEN"
ROLLING = "ROLLING"
BAKE_TIME_MINUTES = 10
# Alarm thresholds, from the load test's SLO (loadtest/slo.toml): 1 % of requests failing, p99
# above 1.5 s, for 2 consecutive minutes with at least 100 requests a minute (a quiet minute's
# one error is not a 1 % failure rate).
ALARM_5XX_RATE_PERCENT = 1.0
ALARM_P99_SECONDS = 1.5
ALARM_MIN_REQUESTS_PER_MINUTE = 100
ALARM_MINUTES = 2


def error_rate_alarm(public_service: str) -> str:
    return f"{PROJECT}-{public_service}-5xx-rate"


def latency_alarm(public_service: str) -> str:
    return f"{PROJECT}-{public_service}-p99-latency"


# Every deployment is watched by the edge's alarms: whatever service a release changes, the API
# is where its users notice.
DEPLOYMENT_ALARMS: tuple[str, ...] = tuple(
    name for service in PUBLIC_PATHS for name in (error_rate_alarm(service), latency_alarm(service))
)


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # folder under services/, ECS service name, container name
    task_definition: dict[str, Any]  # the file as written, placeholders unrendered
    scaling: Scaling
    public_paths: tuple[str, ...]

    @property
    def deployment_strategy(self) -> str:
        return BLUE_GREEN if self.public_paths else ROLLING

    @property
    def family(self) -> str:
        family: str = self.task_definition["family"]
        return family

    @property
    def package(self) -> str:
        # Every package is ticketing_<folder, - as _>; its distribution ticketing-<folder>.
        return f"ticketing_{self.name.replace('-', '_')}"

    @property
    def repository(self) -> str:
        return f"{PROJECT}/{self.name}"

    @property
    def log_group(self) -> str:
        return f"/ecs/{self.family}"

    @property
    def task_role_name(self) -> str:
        return f"{PROJECT}-{self.name}-task"

    @property
    def dockerfile(self) -> Path:
        """One Dockerfile builds every service; the build argument SERVICE names which."""
        return REPO_ROOT / "Dockerfile"

    @property
    def app_container(self) -> dict[str, Any]:
        for container in self.task_definition["containerDefinitions"]:
            if container["name"] == self.name:
                return dict(container)
        raise ValueError(f"{self.name}: no container named {self.name!r} in its task definition")

    @property
    def secret_names(self) -> list[str]:
        """Secrets Manager names the task definition references (`${SECRET:name}`)."""
        names = []
        for container in self.task_definition["containerDefinitions"]:
            for secret in container.get("secrets", []):
                value = secret["valueFrom"]
                if value.startswith("${SECRET:") and value.endswith("}"):
                    names.append(value[len("${SECRET:") : -1])
        return names

    @property
    def owns_database(self) -> bool:
        """A service that gets DATABASE_URL owns a SQL database, so deploy migrates it first."""
        return any(s["name"] == "DATABASE_URL" for s in self.app_container.get("secrets", []))

    @property
    def migrate_command(self) -> list[str]:
        return ["python", "-m", self.package, "migrate"]


def discover(directory: Path = TASK_DEFINITIONS_DIR) -> list[ServiceSpec]:
    services = []
    for path in sorted(directory.glob("*.json")):
        name = path.stem
        services.append(
            ServiceSpec(
                name=name,
                task_definition=json.loads(path.read_text()),
                scaling=SEED_SCALING.get(name, DEFAULT_SCALING),
                public_paths=PUBLIC_PATHS.get(name, (0, ()))[1],
            )
        )
    if not services:
        raise FileNotFoundError(f"no task definitions in {directory}")
    return services
