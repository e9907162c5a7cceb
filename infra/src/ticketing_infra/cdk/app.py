"""The CDK app: `cdk synth` / `cdk deploy` run `python -m ticketing_infra.cdk.app` (infra/cdk.json).

Three stacks, deployed in this order on a first install (infra/README.md):
TicketingEdge (us-east-1), TicketingPlatform, then — after `make deploy` has registered the first
task definition revisions — TicketingServices.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from ticketing_infra import catalog
from ticketing_infra.cdk.edge import EdgeStack
from ticketing_infra.cdk.platform import PlatformStack
from ticketing_infra.cdk.services import ServicesStack
from ticketing_infra.cdk.settings import InfraSettings

# Cross-stack references stay CloudFormation exports (TicketingServices reads the cluster, subnets,
# security group and listener of TicketingPlatform).
DEFAULT_CONTEXT = {"@aws-cdk/core:defaultCrossStackReferences": "strong"}


def build_app(
    context: dict[str, str] | None = None,
    task_definitions: Path = catalog.TASK_DEFINITIONS_DIR,
    outdir: str | None = None,
) -> cdk.App:
    app = cdk.App(context={**DEFAULT_CONTEXT, **(context or {})}, outdir=outdir)
    settings = InfraSettings.from_context(app.node)
    services = catalog.discover(task_definitions)
    tags = {"project": catalog.PROJECT}
    EdgeStack(
        app,
        "TicketingEdge",
        settings=settings,
        env=cdk.Environment(account=settings.account, region=catalog.EDGE_REGION),
        tags=tags,
    )
    env = cdk.Environment(account=settings.account, region=settings.region)
    platform = PlatformStack(
        app, "TicketingPlatform", services=services, settings=settings, env=env, tags=tags
    )
    ServicesStack(
        app, "TicketingServices", platform=platform, services=services, env=env, tags=tags
    )
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
