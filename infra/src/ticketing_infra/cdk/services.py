"""TicketingServices: one ECS service per task definition file, with the seed's task counts,
CPU target tracking, the deployment circuit breaker (with rollback), Service Connect, the ALB
target group and rule of each public service, and the seed's CloudWatch alarms.

Each service names its task definition by FAMILY only (`ticketing-<name>`, no revision), so ECS
runs the family's latest ACTIVE revision. `make deploy` registers those revisions; CloudFormation
never registers one and never pins one, so a `cdk deploy` cannot roll a service back to an old
image (infra/README.md, "Who owns task definition revisions").
"""

from __future__ import annotations

from aws_cdk import CfnTag, Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from ticketing_infra import catalog
from ticketing_infra.catalog import ServiceSpec
from ticketing_infra.cdk.platform import PlatformStack

CPU_TARGET_PERCENT = 70
# On-demand Fargate carries the floor (min tasks); scale-out beyond it is mostly Spot.
SPOT_WEIGHT = 4


class ServicesStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: PlatformStack,
        services: list[ServiceSpec],
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.platform = platform
        self.alarm_action = actions.SnsAction(platform.alarm_topic)
        # Application Auto Scaling's service-linked role for ECS (it creates it on first use).
        self.autoscaling_role = iam.Role.from_role_arn(
            self,
            "AutoscalingRole",
            f"arn:{self.partition}:iam::{self.account}:role/aws-service-role/"
            "ecs.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
        )
        self.services: dict[str, ecs.CfnService] = {}
        for spec in services:
            self.services[spec.name] = self._service(spec)

    def _service(self, spec: ServiceSpec) -> ecs.CfnService:
        platform = self.platform
        private = platform.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        load_balancers = []
        target_group = None
        if spec.public_paths:
            target_group, rule = self._public_entry(spec)
            load_balancers.append(
                ecs.CfnService.LoadBalancerProperty(
                    container_name=spec.name,
                    container_port=catalog.CONTAINER_PORT,
                    target_group_arn=target_group.target_group_arn,
                )
            )
        service = ecs.CfnService(
            self,
            f"Service-{spec.name}",
            cluster=platform.cluster.cluster_name,
            service_name=spec.name,
            task_definition=spec.family,  # family only: the latest ACTIVE revision
            # No desired_count: CloudFormation would reset autoscaling's count on every update.
            capacity_provider_strategy=[
                ecs.CfnService.CapacityProviderStrategyItemProperty(
                    capacity_provider="FARGATE", base=spec.scaling.min_tasks, weight=1
                ),
                ecs.CfnService.CapacityProviderStrategyItemProperty(
                    capacity_provider="FARGATE_SPOT", weight=SPOT_WEIGHT
                ),
            ],
            platform_version="LATEST",
            network_configuration=ecs.CfnService.NetworkConfigurationProperty(
                awsvpc_configuration=ecs.CfnService.AwsVpcConfigurationProperty(
                    subnets=private.subnet_ids,
                    security_groups=[platform.tasks_sg.security_group_id],
                    assign_public_ip="DISABLED",
                )
            ),
            deployment_controller=ecs.CfnService.DeploymentControllerProperty(type="ECS"),
            deployment_configuration=ecs.CfnService.DeploymentConfigurationProperty(
                deployment_circuit_breaker=ecs.CfnService.DeploymentCircuitBreakerProperty(
                    enable=True, rollback=True
                ),
                minimum_healthy_percent=100,
                maximum_percent=200,
            ),
            load_balancers=load_balancers or None,
            health_check_grace_period_seconds=60 if load_balancers else None,
            service_connect_configuration=ecs.CfnService.ServiceConnectConfigurationProperty(
                enabled=True,
                namespace=platform.namespace.namespace_arn,
                services=[
                    ecs.CfnService.ServiceConnectServiceProperty(
                        port_name="http",
                        discovery_name=spec.name,
                        client_aliases=[
                            ecs.CfnService.ServiceConnectClientAliasProperty(
                                port=catalog.CONTAINER_PORT,
                                dns_name=f"{spec.name}.{catalog.SERVICE_CONNECT_NAMESPACE}",
                            )
                        ],
                    )
                ],
                log_configuration=ecs.CfnService.LogConfigurationProperty(
                    log_driver="awslogs",
                    options={
                        "awslogs-group": spec.log_group,
                        "awslogs-region": self.region,
                        "awslogs-stream-prefix": "service-connect",
                    },
                ),
            ),
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            # "project" comes from the stack's tags, which CloudFormation puts on every resource.
            tags=[CfnTag(key="service", value=spec.name)],
        )
        if target_group is not None:
            # ECS refuses a target group that no listener forwards to yet.
            service.node.add_dependency(rule)
        self._autoscaling(spec, service)
        self._alarms(spec, target_group)
        return service

    def _public_entry(
        self, spec: ServiceSpec
    ) -> tuple[elbv2.ApplicationTargetGroup, elbv2.ApplicationListenerRule]:
        platform = self.platform
        target_group = elbv2.ApplicationTargetGroup(
            self,
            f"Target-{spec.name}",
            target_group_name=f"ticketing-{spec.name}"[:32],
            vpc=platform.vpc,
            port=catalog.CONTAINER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=catalog.HEALTH_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        priority, paths = catalog.PUBLIC_PATHS[spec.name]
        rule = elbv2.ApplicationListenerRule(
            self,
            f"Rule-{spec.name}",
            listener=platform.https_listener,
            priority=priority,
            conditions=[elbv2.ListenerCondition.path_patterns(list(paths))],
            action=elbv2.ListenerAction.forward([target_group]),
        )
        return target_group, rule

    def _autoscaling(self, spec: ServiceSpec, service: ecs.CfnService) -> None:
        target = appscaling.ScalableTarget(
            self,
            f"Scaling-{spec.name}",
            service_namespace=appscaling.ServiceNamespace.ECS,
            resource_id=f"service/{catalog.CLUSTER_NAME}/{spec.name}",
            scalable_dimension="ecs:service:DesiredCount",
            min_capacity=spec.scaling.min_tasks,
            max_capacity=spec.scaling.max_tasks,
            role=self.autoscaling_role,
        )
        target.node.add_dependency(service)
        target.scale_to_track_metric(
            "Cpu",
            policy_name=f"{spec.name}-cpu-scaling",
            target_value=CPU_TARGET_PERCENT,
            predefined_metric=appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_CPU_UTILIZATION,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )

    def _alarms(self, spec: ServiceSpec, target_group: elbv2.ApplicationTargetGroup | None) -> None:
        cpu = cloudwatch.Alarm(
            self,
            f"CpuHigh-{spec.name}",
            alarm_name=f"ticketing-{spec.name}-cpu-high",
            alarm_description=f"{spec.name} CPU > 80%",
            metric=cloudwatch.Metric(
                namespace="AWS/ECS",
                metric_name="CPUUtilization",
                dimensions_map={"ServiceName": spec.name, "ClusterName": catalog.CLUSTER_NAME},
                statistic="Average",
                period=Duration.minutes(5),
            ),
            threshold=80,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        cpu.add_alarm_action(self.alarm_action)
        if target_group is None:
            return
        errors = cloudwatch.Alarm(
            self,
            f"Errors-{spec.name}",
            alarm_name=f"ticketing-{spec.name}-errors",
            alarm_description=f"{spec.name} 5xx errors",
            metric=target_group.metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, statistic="Sum", period=Duration.seconds(60)
            ),
            threshold=10,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        errors.add_alarm_action(self.alarm_action)
