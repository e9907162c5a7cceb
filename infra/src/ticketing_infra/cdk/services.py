"""TicketingServices: one ECS service per task definition file, with the seed's task counts,
CPU target tracking, the deployment circuit breaker (with rollback), Service Connect, and the
seed's CloudWatch alarms. Public services deploy blue/green (ECS native): two target groups, the
listener rule ECS shifts between them, the role it does that with, a bake time, and the edge
alarms (5xx rate, p99 latency) that roll a deployment back; internal services roll, watched by
the same alarms (catalog.py says why).

Each service names its task definition by FAMILY only (`ticketing-<name>`, no revision), so ECS
runs the family's latest ACTIVE revision. `make deploy` registers those revisions; CloudFormation
never registers one and never pins one, so a `cdk deploy` cannot roll a service back to an old
image (infra/README.md, "Who owns task definition revisions").
"""

from __future__ import annotations

from typing import NamedTuple

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
from ticketing_infra.cdk.nag import suppress
from ticketing_infra.cdk.platform import PlatformStack

CPU_TARGET_PERCENT = 70
# On-demand Fargate carries the floor (min tasks); scale-out beyond it is mostly Spot.
SPOT_WEIGHT = 4


class PublicEntry(NamedTuple):
    blue: elbv2.ApplicationTargetGroup
    green: elbv2.ApplicationTargetGroup
    rule: elbv2.ApplicationListenerRule


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
        self.blue_green_role = (
            self._blue_green_role() if any(s.public_paths for s in services) else None
        )
        # Public entries first: a target group's metrics (the alarms') need its listener rule.
        self.public: dict[str, PublicEntry] = {}
        for spec in services:
            if spec.public_paths:
                blue, green = self._target_groups(spec)
                rule = self._listener_rule(spec, blue, green)
                self.public[spec.name] = PublicEntry(blue, green, rule)
        self._edge_alarms()
        self.services: dict[str, ecs.CfnService] = {}
        for spec in services:
            self.services[spec.name] = self._service(spec)

    def _service(self, spec: ServiceSpec) -> ecs.CfnService:
        platform = self.platform
        private = platform.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        load_balancers = []
        rule = None
        if spec.public_paths:
            blue, green, rule = self.public[spec.name]
            assert self.blue_green_role is not None
            load_balancers.append(
                ecs.CfnService.LoadBalancerProperty(
                    container_name=spec.name,
                    container_port=catalog.CONTAINER_PORT,
                    target_group_arn=blue.target_group_arn,
                    advanced_configuration=ecs.CfnService.AdvancedConfigurationProperty(
                        alternate_target_group_arn=green.target_group_arn,
                        production_listener_rule=rule.listener_rule_arn,
                        role_arn=self.blue_green_role.role_arn,
                    ),
                )
            )
        blue_green = spec.deployment_strategy == catalog.BLUE_GREEN
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
                strategy=spec.deployment_strategy,
                bake_time_in_minutes=catalog.BAKE_TIME_MINUTES if blue_green else None,
                deployment_circuit_breaker=ecs.CfnService.DeploymentCircuitBreakerProperty(
                    enable=True, rollback=True
                ),
                alarms=ecs.CfnService.DeploymentAlarmsProperty(
                    alarm_names=list(catalog.DEPLOYMENT_ALARMS), enable=True, rollback=True
                )
                if catalog.DEPLOYMENT_ALARMS
                else None,
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
        if rule is not None:
            # ECS refuses a target group that no listener forwards to yet.
            service.node.add_dependency(rule)
        # The edge alarms watch every deployment: they must exist before the first one.
        for alarm in self.edge_alarms:
            service.node.add_dependency(alarm)
        self._autoscaling(spec, service)
        self._alarms(spec)
        return service

    def _blue_green_role(self) -> iam.Role:
        """What ECS assumes to register green tasks and shift the listener rule's weights."""
        role = iam.Role(
            self,
            "BlueGreenRole",
            role_name=f"{catalog.PROJECT}-ecs-blue-green",
            assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "AmazonECSInfrastructureRolePolicyForLoadBalancers"
                )
            ],
        )
        suppress(
            role,
            "AwsSolutions-IAM4",
            "AWS's managed policy for ECS blue/green is what ECS documents for this role; it "
            "changes with the feature (new lifecycle stages, listener types), a copy would not.",
            applies_to=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AmazonECSInfrastructureRolePolicyForLoadBalancers"
            ],
        )
        return role

    def _target_groups(
        self, spec: ServiceSpec
    ) -> tuple[elbv2.ApplicationTargetGroup, elbv2.ApplicationTargetGroup]:
        """Blue (the one CloudFormation names as the service's) and green (the alternate). After a
        deployment they trade places: whichever the rule weights at 100 is production."""

        def group(construct_id: str, name: str) -> elbv2.ApplicationTargetGroup:
            return elbv2.ApplicationTargetGroup(
                self,
                construct_id,
                target_group_name=name[:32],
                vpc=self.platform.vpc,
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

        return (
            group(f"Target-{spec.name}", f"ticketing-{spec.name}"),
            group(f"TargetGreen-{spec.name}", f"ticketing-{spec.name}-green"),
        )

    def _listener_rule(
        self,
        spec: ServiceSpec,
        blue: elbv2.ApplicationTargetGroup,
        green: elbv2.ApplicationTargetGroup,
    ) -> elbv2.ApplicationListenerRule:
        # Forward only (ECS blue/green refuses rules that mix in other actions), to both groups:
        # ECS moves the weights. The template's 100/0 is the state before the first deployment;
        # infra/README.md says what a later change of this rule must take care of.
        assert spec.load_balancer is not None  # only public services get a rule
        priority, paths = spec.load_balancer.priority, spec.load_balancer.paths
        return elbv2.ApplicationListenerRule(
            self,
            f"Rule-{spec.name}",
            listener=self.platform.https_listener,
            priority=priority,
            conditions=[elbv2.ListenerCondition.path_patterns(list(paths))],
            action=elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=blue, weight=100),
                    elbv2.WeightedTargetGroup(target_group=green, weight=0),
                ]
            ),
        )

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

    def _edge_alarms(self) -> None:
        """Per public service, over both target groups (either may be production): the 5xx rate
        and the p99 latency that roll a deployment back, and the seed's 5xx count."""
        self.edge_alarms: list[cloudwatch.Alarm] = []
        minute = Duration.minutes(1)
        for name, (blue, green, _) in self.public.items():
            groups = {"blue": blue, "green": green}
            errors = {
                f"e_{color}": group.metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, statistic="Sum", period=minute
                )
                for color, group in groups.items()
            }
            requests = {
                f"r_{color}": group.metrics.request_count(statistic="Sum", period=minute)
                for color, group in groups.items()
            }
            latency = {
                f"p_{color}": group.metrics.target_response_time(statistic="p99", period=minute)
                for color, group in groups.items()
            }
            total_errors = "FILL(e_blue, 0) + FILL(e_green, 0)"
            total_requests = "FILL(r_blue, 0) + FILL(r_green, 0)"
            rate = cloudwatch.MathExpression(
                expression=(
                    f"IF(({total_requests}) >= {catalog.ALARM_MIN_REQUESTS_PER_MINUTE}, "
                    f"100 * ({total_errors}) / ({total_requests}), 0)"
                ),
                using_metrics={**errors, **requests},
                label=f"{name} 5xx % of requests",
                period=minute,
            )
            p99 = cloudwatch.MathExpression(
                expression="MAX([FILL(p_blue, 0), FILL(p_green, 0)])",
                using_metrics=latency,
                label=f"{name} p99 response time (s)",
                period=minute,
            )
            for alarm_id, alarm_name, description, metric, threshold in (
                (
                    f"ErrorRate-{name}",
                    catalog.error_rate_alarm(name),
                    f"{name}: more than {catalog.ALARM_5XX_RATE_PERCENT} % of requests answered "
                    "5xx (rolls a deployment back)",
                    rate,
                    catalog.ALARM_5XX_RATE_PERCENT,
                ),
                (
                    f"Latency-{name}",
                    catalog.latency_alarm(name),
                    f"{name}: p99 above {catalog.ALARM_P99_SECONDS} s (rolls a deployment back)",
                    p99,
                    catalog.ALARM_P99_SECONDS,
                ),
            ):
                alarm = cloudwatch.Alarm(
                    self,
                    alarm_id,
                    alarm_name=alarm_name,
                    alarm_description=description,
                    metric=metric,
                    threshold=threshold,
                    evaluation_periods=catalog.ALARM_MINUTES,
                    datapoints_to_alarm=catalog.ALARM_MINUTES,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
                alarm.add_alarm_action(self.alarm_action)
                self.edge_alarms.append(alarm)
            seed_errors = cloudwatch.Alarm(
                self,
                f"Errors-{name}",
                alarm_name=f"ticketing-{name}-errors",
                alarm_description=f"{name} 5xx errors",
                metric=cloudwatch.MathExpression(
                    expression=total_errors,
                    using_metrics=errors,
                    label=f"{name} 5xx answers",
                    period=minute,
                ),
                threshold=10,
                evaluation_periods=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            seed_errors.add_alarm_action(self.alarm_action)

    def _alarms(self, spec: ServiceSpec) -> None:
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
