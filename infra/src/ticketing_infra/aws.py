"""boto3 clients for one region (and, in tests, one endpoint: a moto server)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

# Deploy calls are few and must not give up on a throttled API mid-release.
RETRIES = Config(retries={"max_attempts": 10, "mode": "adaptive"})


@dataclass
class Aws:
    region: str
    endpoint_url: str | None = None
    session: Any = field(default=None)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.session is None:
            self.session = boto3.session.Session(region_name=self.region)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=key[1], endpoint_url=self.endpoint_url, config=RETRIES
            )
        return self._clients[key]

    @property
    def ecs(self) -> Any:
        return self.client("ecs")

    @property
    def ecr(self) -> Any:
        return self.client("ecr")

    @property
    def logs(self) -> Any:
        return self.client("logs")

    def account_id(self) -> str:
        account: str = self.client("sts").get_caller_identity()["Account"]
        return account

    def json_parameter(self, name: str, region: str | None = None) -> dict[str, Any]:
        """An SSM String parameter holding JSON (the CDK stacks write them for deploy)."""
        value = self.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"]
        parsed: dict[str, Any] = json.loads(value)
        return parsed
