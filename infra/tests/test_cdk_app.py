"""The synthesised CloudFormation of the three stacks (one synth for the whole session; the
synth itself runs cdk-nag's AwsSolutions pack and fails on any unacknowledged finding)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from ticketing_infra import catalog
from ticketing_infra.cdk.settings import InfraSettings

CONTEXT = {
    "account": "123456789012",
    "region": "eu-west-1",
    "apiCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/api",
    "frontendCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/web",
}
SERVICES = catalog.discover()


@pytest.fixture(scope="session")
def assembly_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from ticketing_infra.cdk.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    build_app(CONTEXT, outdir=str(outdir)).synth()
    return outdir


def template(assembly_dir: Path, stack: str) -> Template:
    return Template.from_json(json.loads((assembly_dir / f"{stack}.template.json").read_text()))


@pytest.fixture(scope="session")
def platform(assembly_dir: Path) -> Template:
    return template(assembly_dir, "TicketingPlatform")


@pytest.fixture(scope="session")
def services(assembly_dir: Path) -> Template:
    return template(assembly_dir, "TicketingServices")


@pytest.fixture(scope="session")
def edge(assembly_dir: Path) -> Template:
    return template(assembly_dir, "TicketingEdge")


def resources(t: Template, kind: str, props: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = t.find_resources(kind, {"Properties": props} if props else None)
    return found


def only(t: Template, kind: str, props: dict[str, Any] | None = None) -> dict[str, Any]:
    found = resources(t, kind, props)
    assert len(found) == 1, (kind, list(found))
    value: dict[str, Any] = next(iter(found.values()))["Properties"]
    return value


def logical_id(t: Template, kind: str, props: dict[str, Any]) -> str:
    found = resources(t, kind, props)
    assert len(found) == 1, (kind, props, list(found))
    return next(iter(found))


# -- cdk-nag -------------------------------------------------------------------------------


def test_every_nag_acknowledgment_gives_a_reason(assembly_dir: Path) -> None:
    acknowledged = []
    for stack in ("TicketingPlatform", "TicketingServices", "TicketingEdge"):
        body = json.loads((assembly_dir / f"{stack}.template.json").read_text())
        for resource in body["Resources"].values():
            for rule in (
                resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
            ):
                if rule["id"].startswith("AwsSolutions-"):
                    acknowledged.append(rule["id"])
                    assert len(rule["reason"].split()) >= 6, rule
    # The pack ran (it recorded what was acknowledged) and nothing was waved through wholesale.
    assert "AwsSolutions-EC23" in acknowledged
    assert all(not rule.startswith("AwsSolutions-IAM5") or "[" in rule for rule in acknowledged)


def test_settings_must_name_the_certificates() -> None:
    import aws_cdk as cdk

    with pytest.raises(ValueError, match="apiCertificateArn, frontendCertificateArn"):
        InfraSettings.from_context(cdk.App(context={"account": "1", "region": "eu-west-1"}).node)


# -- network and security groups ------------------------------------------------------------


def test_vpc_spans_two_azs_with_public_and_private_subnets_and_flow_logs(
    platform: Template,
) -> None:
    platform.resource_count_is("AWS::EC2::VPC", 1)
    subnets = resources(platform, "AWS::EC2::Subnet")
    public = [s for s in subnets.values() if s["Properties"]["MapPublicIpOnLaunch"]]
    assert len(subnets) == 4
    assert len(public) == 2
    assert len({json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets.values()}) == 2
    platform.resource_count_is("AWS::EC2::NatGateway", 2)
    flow_log = only(platform, "AWS::EC2::FlowLog")
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"


def _group_ids(platform: Template) -> dict[str, str]:
    names = {
        "alb": "ticketing-alb-sg",
        "tasks": "ticketing-ecs-sg",
        "db": "ticketing-db-sg",
        "redis": "ticketing-redis-sg",
        "search": "ticketing-opensearch-sg",
    }
    return {
        key: logical_id(platform, "AWS::EC2::SecurityGroup", {"GroupName": name})
        for key, name in names.items()
    }


def test_security_groups_chain_alb_to_tasks_to_data_stores(platform: Template) -> None:
    ids = _group_ids(platform)
    ingress: dict[str, list[tuple[str, int]]] = {key: [] for key in ids}
    by_id = {v: k for k, v in ids.items()}
    for rule in resources(platform, "AWS::EC2::SecurityGroupIngress").values():
        props = rule["Properties"]
        target = by_id[props["GroupId"]["Fn::GetAtt"][0]]
        if "SourcePrefixListId" in props:
            source = "cloudfront"
        else:
            source = by_id[props["SourceSecurityGroupId"]["Fn::GetAtt"][0]]
        ingress[target].append((source, props["FromPort"]))
    for key, logical in ids.items():
        inline = resources(platform, "AWS::EC2::SecurityGroup")[logical]["Properties"]
        for rule in inline.get("SecurityGroupIngress", []):
            ingress[key].append((rule.get("CidrIp", "?"), rule["FromPort"]))
    # Only CloudFront (the API's edge) reaches the ALB: the forwarded-for hops stay honest.
    assert sorted(ingress["alb"]) == [("cloudfront", 80), ("cloudfront", 443)]
    assert sorted(ingress["tasks"]) == [("alb", 8000), ("tasks", 8000)]
    assert ingress["db"] == [("tasks", 5432)]
    assert ingress["redis"] == [("tasks", 6379)]
    assert ingress["search"] == [("tasks", 443)]
    # The ALB may only talk to the tasks; the data stores talk to nobody.
    egress = resources(platform, "AWS::EC2::SecurityGroupEgress")
    assert [
        e["Properties"]["DestinationSecurityGroupId"]["Fn::GetAtt"][0] for e in egress.values()
    ] == [ids["tasks"]]
    groups = resources(platform, "AWS::EC2::SecurityGroup")
    assert "SecurityGroupEgress" not in groups[ids["alb"]]["Properties"]
    for key in ("db", "redis", "search"):
        rules = groups[ids[key]]["Properties"]["SecurityGroupEgress"]
        assert [r["CidrIp"] for r in rules] == ["255.255.255.255/32"]  # CDK's "no egress"


# -- load balancer and WAF ------------------------------------------------------------------


def test_the_alb_cuts_off_slow_clients(platform: Template) -> None:
    """Slow headers never reach the gateway: the ALB reads them and closes idle clients."""
    platform.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "idle_timeout.timeout_seconds", "Value": "60"}]
            )
        },
    )


def test_alb_https_listener_and_redirect(platform: Template) -> None:
    alb = only(platform, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Scheme"] == "internet-facing"
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    https = only(platform, "AWS::ElasticLoadBalancingV2::Listener", {"Port": 443})
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": CONTEXT["apiCertificateArn"]}]
    assert https["DefaultActions"][0]["Type"] == "fixed-response"
    http = only(platform, "AWS::ElasticLoadBalancingV2::Listener", {"Port": 80})
    assert http["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"


def test_public_services_deploy_blue_green_behind_the_listener_rule(services: Template) -> None:
    public = [s for s in SERVICES if s.public_paths]
    assert [s.name for s in public] == ["api-gateway"]
    # Two target groups per public service: blue (the service's) and green (the alternate).
    services.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 2 * len(public))
    blue = logical_id(
        services, "AWS::ElasticLoadBalancingV2::TargetGroup", {"Name": "ticketing-api-gateway"}
    )
    green = logical_id(
        services,
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"Name": "ticketing-api-gateway-green"},
    )
    for group_id in (blue, green):
        group = resources(services, "AWS::ElasticLoadBalancingV2::TargetGroup")[group_id]
        props = group["Properties"]
        assert (props["TargetType"], props["Port"], props["HealthCheckPath"]) == (
            "ip",
            8000,
            "/health",
        )
    rule_id = logical_id(services, "AWS::ElasticLoadBalancingV2::ListenerRule", {"Priority": 100})
    rule = resources(services, "AWS::ElasticLoadBalancingV2::ListenerRule")[rule_id]["Properties"]
    assert rule["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/status"]}}
    ]
    # Forward only, to both: ECS shifts the weights (100/0 before the first deployment).
    [action] = rule["Actions"]
    assert action["Type"] == "forward"
    assert action["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": {"Ref": blue}, "Weight": 100},
        {"TargetGroupArn": {"Ref": green}, "Weight": 0},
    ]

    gateway = only(services, "AWS::ECS::Service", {"ServiceName": "api-gateway"})
    [balancer] = gateway["LoadBalancers"]
    assert (balancer["ContainerName"], balancer["ContainerPort"]) == ("api-gateway", 8000)
    assert balancer["TargetGroupArn"] == {"Ref": blue}
    advanced = balancer["AdvancedConfiguration"]
    assert advanced["AlternateTargetGroupArn"] == {"Ref": green}
    assert advanced["ProductionListenerRule"] == {"Ref": rule_id}
    role_id = logical_id(services, "AWS::IAM::Role", {"RoleName": "ticketing-ecs-blue-green"})
    assert advanced["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    role = resources(services, "AWS::IAM::Role")[role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ecs.amazonaws.com"
    }
    assert "AmazonECSInfrastructureRolePolicyForLoadBalancers" in json.dumps(
        role["ManagedPolicyArns"]
    )
    assert gateway["HealthCheckGracePeriodSeconds"] == 60
    config = gateway["DeploymentConfiguration"]
    assert config["Strategy"] == "BLUE_GREEN"
    assert config["BakeTimeInMinutes"] == catalog.BAKE_TIME_MINUTES


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_deployment_rolls_back_on_the_edge_alarms(
    services: Template, spec: catalog.ServiceSpec
) -> None:
    config = only(services, "AWS::ECS::Service", {"ServiceName": spec.name})[
        "DeploymentConfiguration"
    ]
    assert config["Strategy"] == ("BLUE_GREEN" if spec.public_paths else "ROLLING")
    assert config["Alarms"] == {
        "AlarmNames": ["ticketing-api-gateway-5xx-rate", "ticketing-api-gateway-p99-latency"],
        "Enable": True,
        "Rollback": True,
    }
    if not spec.public_paths:
        assert "BakeTimeInMinutes" not in config
        assert "LoadBalancers" not in only(
            services, "AWS::ECS::Service", {"ServiceName": spec.name}
        )


def _alarms(services: Template) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in resources(services, "AWS::CloudWatch::Alarm").values()
    }


def _metric_stats(alarm: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """Metric id -> (metric name, statistic, target group logical id)."""
    stats = {}
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            group = next(d for d in metric["Dimensions"] if d["Name"] == "TargetGroup")
            stats[query["Id"]] = (
                metric["MetricName"],
                query["MetricStat"]["Stat"],
                group["Value"]["Fn::GetAtt"][0],
            )
    return stats


def test_edge_alarms_watch_both_target_groups(services: Template) -> None:
    alarms = _alarms(services)
    blue = logical_id(
        services, "AWS::ElasticLoadBalancingV2::TargetGroup", {"Name": "ticketing-api-gateway"}
    )
    green = logical_id(
        services,
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"Name": "ticketing-api-gateway-green"},
    )

    rate = alarms["ticketing-api-gateway-5xx-rate"]
    assert _metric_stats(rate) == {
        "e_blue": ("HTTPCode_Target_5XX_Count", "Sum", blue),
        "e_green": ("HTTPCode_Target_5XX_Count", "Sum", green),
        "r_blue": ("RequestCount", "Sum", blue),
        "r_green": ("RequestCount", "Sum", green),
    }
    [expression] = [q["Expression"] for q in rate["Metrics"] if "Expression" in q]
    assert expression == (
        "IF((FILL(r_blue, 0) + FILL(r_green, 0)) >= 100, "
        "100 * (FILL(e_blue, 0) + FILL(e_green, 0)) / (FILL(r_blue, 0) + FILL(r_green, 0)), 0)"
    )
    assert (rate["Threshold"], rate["EvaluationPeriods"], rate["DatapointsToAlarm"]) == (1, 2, 2)

    latency = alarms["ticketing-api-gateway-p99-latency"]
    assert _metric_stats(latency) == {
        "p_blue": ("TargetResponseTime", "p99", blue),
        "p_green": ("TargetResponseTime", "p99", green),
    }
    assert latency["Threshold"] == catalog.ALARM_P99_SECONDS
    for alarm in (rate, latency):
        assert all(q["MetricStat"]["Period"] == 60 for q in alarm["Metrics"] if "MetricStat" in q)
        assert alarm["TreatMissingData"] == "notBreaching"  # no traffic is not an outage
        assert len(alarm["AlarmActions"]) == 1


def _rule_statements(acl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule["Statement"] for rule in acl["Rules"]}


def test_the_per_ip_limit_is_at_the_edge_and_sized_for_a_crowd_behind_one_address(
    platform: Template, edge: Template
) -> None:
    edge_rules = _rule_statements(only(edge, "AWS::WAFv2::WebACL"))
    assert edge_rules["RatePerIp"]["RateBasedStatement"] == {
        "Limit": 100_000,
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
    }
    # The ALB hears only CloudFront: a per-IP rule there would count edge locations.
    assert "RatePerIp" not in _rule_statements(only(platform, "AWS::WAFv2::WebACL"))


@pytest.mark.parametrize(("stack", "scope"), [("platform", "REGIONAL"), ("edge", "CLOUDFRONT")])
def test_waf_sqli_xss_known_bad_inputs(
    stack: str, scope: str, request: pytest.FixtureRequest
) -> None:
    acl = only(request.getfixturevalue(stack), "AWS::WAFv2::WebACL")
    assert acl["Scope"] == scope
    statements = _rule_statements(acl)
    managed = {
        s["ManagedRuleGroupStatement"]["Name"]
        for s in statements.values()
        if "ManagedRuleGroupStatement" in s
    }
    assert managed == {"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    xss = statements["CrossSiteScripting"]["OrStatement"]["Statements"]
    assert {next(iter(s["XssMatchStatement"]["FieldToMatch"])) for s in xss} == {
        "Body",
        "QueryString",
        "UriPath",
    }


def test_the_gateway_keeps_connections_longer_than_the_alb() -> None:
    # The ALB reuses an idle connection for up to its idle timeout (60 s); a gateway that closes
    # first (uvicorn's default is 5 s) races it and the ALB answers 502 to the unlucky request.
    definition = json.loads((catalog.TASK_DEFINITIONS_DIR / "api-gateway.json").read_text())
    (container,) = [c for c in definition["containerDefinitions"] if c["essential"]]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert int(env["UVICORN_TIMEOUT_KEEP_ALIVE"]) > catalog.ALB_IDLE_TIMEOUT_SECONDS


def test_api_waf_guards_the_alb(platform: Template) -> None:
    association = only(platform, "AWS::WAFv2::WebACLAssociation")
    assert association["ResourceArn"] == {
        "Ref": logical_id(
            platform, "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Name": "ticketing-alb"}
        )
    }


# -- data stores ----------------------------------------------------------------------------


def test_postgres_multi_az_encrypted_backed_up_with_performance_insights(
    platform: Template,
) -> None:
    db = only(platform, "AWS::RDS::DBInstance")
    assert db["Engine"] == "postgres"
    assert db["MultiAZ"] is True
    assert db["StorageEncrypted"] is True
    assert db["BackupRetentionPeriod"] == 7
    assert db["PreferredBackupWindow"] == "03:00-04:00"
    assert db["EnablePerformanceInsights"] is True
    assert db["DeletionProtection"] is True
    assert db["PubliclyAccessible"] is False


def test_bookings_table(platform: Template) -> None:
    table = only(platform, "AWS::DynamoDB::Table")
    assert table["TableName"] == "ticketing-bookings"
    assert table["KeySchema"] == [{"AttributeName": "booking_id", "KeyType": "HASH"}]
    assert {
        i["IndexName"]: i["KeySchema"][0]["AttributeName"] for i in table["GlobalSecondaryIndexes"]
    } == {"user-index": "user_id", "event-index": "event_id"}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_redis_replication_group_fails_over_and_encrypts(platform: Template) -> None:
    redis = only(platform, "AWS::ElastiCache::ReplicationGroup", {"NumCacheClusters": 2})
    assert redis["AutomaticFailoverEnabled"] is True
    assert redis["MultiAZEnabled"] is True
    assert redis["AtRestEncryptionEnabled"] is True
    assert redis["TransitEncryptionEnabled"] is True
    assert "resolve:secretsmanager" in json.dumps(redis["AuthToken"])


def test_inventory_redis_is_a_cluster_its_tasks_reach_in_cluster_mode(platform: Template) -> None:
    cluster = only(
        platform,
        "AWS::ElastiCache::ReplicationGroup",
        {"ReplicationGroupId": "ticketing-inventory-redis"},
    )
    assert cluster["NumNodeGroups"] == 3
    assert cluster["ReplicasPerNodeGroup"] == 1
    assert cluster["CacheParameterGroupName"] == "default.redis7.cluster.on"
    assert cluster["AutomaticFailoverEnabled"] is True
    assert cluster["TransitEncryptionEnabled"] is True
    url = only(platform, "AWS::SecretsManager::Secret", {"Name": "ticketing/inventory-redis-url"})
    assert "ConfigurationEndPoint.Address" in json.dumps(url["SecretString"])
    inventory = json.loads((catalog.TASK_DEFINITIONS_DIR / "inventory.json").read_text())
    container = inventory["containerDefinitions"][0]
    assert {"name": "REDIS_CLUSTER", "value": "true"} in container["environment"]
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets["REDIS_URL"] == "${SECRET:ticketing/inventory-redis-url}"


def test_opensearch_domain_lives_in_the_vpc(platform: Template) -> None:
    domain = only(platform, "AWS::OpenSearchService::Domain")
    assert len(domain["VPCOptions"]["SubnetIds"]) == 2
    assert domain["EncryptionAtRestOptions"]["Enabled"] is True
    assert domain["NodeToNodeEncryptionOptions"]["Enabled"] is True
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert domain["AdvancedSecurityOptions"]["Enabled"] is True
    assert domain["ClusterConfig"]["ZoneAwarenessEnabled"] is True


# -- secrets --------------------------------------------------------------------------------


def test_every_secret_a_task_definition_names_exists(platform: Template) -> None:
    names = {
        s["Properties"]["Name"] for s in resources(platform, "AWS::SecretsManager::Secret").values()
    }
    referenced = {name for spec in SERVICES for name in spec.secret_names}
    assert referenced <= names, referenced - names


def test_connection_urls_carry_no_credentials_in_the_template(platform: Template) -> None:
    for name in (
        "ticketing/auth/database-url",
        "ticketing/redis-url",
        "ticketing/search/opensearch-url",
    ):
        secret = only(platform, "AWS::SecretsManager::Secret", {"Name": name})
        text = json.dumps(secret["SecretString"])
        assert "{{resolve:secretsmanager:" in text, name
    auth = only(platform, "AWS::SecretsManager::Secret", {"Name": "ticketing/auth/database-url"})
    assert json.dumps(auth["SecretString"]).startswith(
        '{"Fn::Join": ["", ["postgresql+asyncpg://ticketing:'
    )
    payments = only(
        platform, "AWS::SecretsManager::Secret", {"Name": "ticketing/payment/database-url"}
    )
    assert json.dumps(payments["SecretString"]).endswith(':5432/payments"]]}')


# -- containers -----------------------------------------------------------------------------


def test_ecr_repository_per_service_scans_on_push(platform: Template) -> None:
    repos = resources(platform, "AWS::ECR::Repository")
    assert {r["Properties"]["RepositoryName"] for r in repos.values()} == {
        f"ticketing/{s.name}" for s in SERVICES
    }
    for repo in repos.values():
        assert repo["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert repo["Properties"]["ImageTagMutability"] == "IMMUTABLE"


def test_cluster_runs_fargate_and_fargate_spot(platform: Template) -> None:
    cluster = only(platform, "AWS::ECS::Cluster")
    assert cluster["ClusterName"] == "ticketing-cluster"
    providers = only(platform, "AWS::ECS::ClusterCapacityProviderAssociations")
    assert providers["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    weights = {
        s["CapacityProvider"]: s["Weight"] for s in providers["DefaultCapacityProviderStrategy"]
    }
    assert weights == {"FARGATE": 1, "FARGATE_SPOT": 4}


def test_log_groups_keep_30_days(platform: Template) -> None:
    groups = resources(platform, "AWS::Logs::LogGroup")
    names = {g["Properties"]["LogGroupName"] for g in groups.values()}
    assert {s.log_group for s in SERVICES} <= names
    assert "/aws/vpc/ticketing" in names
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {30}


def test_roles_the_task_definitions_name_exist(platform: Template) -> None:
    roles = {
        r["Properties"].get("RoleName") for r in resources(platform, "AWS::IAM::Role").values()
    }
    for spec in SERVICES:
        for key in ("executionRoleArn", "taskRoleArn"):
            role_name = spec.task_definition[key].rsplit("/", 1)[1]
            assert role_name in roles, (spec.name, role_name)


def test_booking_may_use_its_table_and_nobody_else_can(platform: Template) -> None:
    table = logical_id(platform, "AWS::DynamoDB::Table", {"TableName": "ticketing-bookings"})
    with_table = [
        p["Properties"]["Roles"][0]["Ref"]
        for p in resources(platform, "AWS::IAM::Policy").values()
        if table in json.dumps(p["Properties"]["PolicyDocument"])
    ]
    booking_role = logical_id(platform, "AWS::IAM::Role", {"RoleName": "ticketing-booking-task"})
    assert with_table == [booking_role]


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_service_runs_the_latest_revision_of_its_family(
    services: Template, spec: catalog.ServiceSpec
) -> None:
    service = only(services, "AWS::ECS::Service", {"ServiceName": spec.name})
    # Family only: CloudFormation never pins a revision, so `make deploy` owns revisions.
    assert service["TaskDefinition"] == f"ticketing-{spec.name}"
    assert "DesiredCount" not in service  # autoscaling owns the count
    config = service["DeploymentConfiguration"]
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert config["MinimumHealthyPercent"] == 100
    strategy = {s["CapacityProvider"]: s for s in service["CapacityProviderStrategy"]}
    assert strategy["FARGATE"]["Base"] == spec.scaling.min_tasks
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    connect = service["ServiceConnectConfiguration"]
    assert connect["Services"][0]["ClientAliases"] == [
        {"DnsName": f"{spec.name}.ticketing.local", "Port": 8000}
    ]
    assert connect["Services"][0]["PortName"] == spec.app_container["portMappings"][0]["name"]


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_autoscaling_follows_the_seed(services: Template, spec: catalog.ServiceSpec) -> None:
    target = only(
        services,
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"ResourceId": f"service/ticketing-cluster/{spec.name}"},
    )
    declared = catalog.TOPOLOGY[spec.name].scaling  # its pyproject's `tasks`
    assert (target["MinCapacity"], target["MaxCapacity"]) == (
        declared.min_tasks,
        declared.max_tasks,
    )
    policy = only(
        services,
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {"PolicyName": f"{spec.name}-cpu-scaling"},
    )["TargetTrackingScalingPolicyConfiguration"]
    assert policy["TargetValue"] == 70
    assert policy["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    assert (policy["ScaleInCooldown"], policy["ScaleOutCooldown"]) == (300, 60)


def test_seed_alarms(services: Template) -> None:
    alarms = _alarms(services)
    for spec in SERVICES:
        cpu = alarms[f"ticketing-{spec.name}-cpu-high"]
        assert (cpu["Namespace"], cpu["MetricName"], cpu["Threshold"]) == (
            "AWS/ECS",
            "CPUUtilization",
            80,
        )
        assert (cpu["Period"], cpu["EvaluationPeriods"]) == (300, 2)
        assert {"Name": "ServiceName", "Value": spec.name} in cpu["Dimensions"]
        assert len(cpu["AlarmActions"]) == 1
    errors = alarms["ticketing-api-gateway-errors"]  # the seed's, over both target groups now
    assert {name for name, _, _ in _metric_stats(errors).values()} == {"HTTPCode_Target_5XX_Count"}
    assert {stat for _, stat, _ in _metric_stats(errors).values()} == {"Sum"}
    assert len(_metric_stats(errors)) == 2
    assert (errors["Threshold"], errors["EvaluationPeriods"]) == (10, 2)


def test_deploy_parameter_tells_deploy_where_tasks_run(platform: Template) -> None:
    parameter = only(platform, "AWS::SSM::Parameter", {"Name": "/ticketing/deploy/platform"})
    text = json.dumps(parameter["Value"])
    for key in ("cluster", "subnets", "security_groups"):
        assert f'\\"{key}\\"' in text
    assert '\\"api_url\\":\\"https://api.ticketing-pro.com\\"' in text  # the smoke's target


# -- frontend edge --------------------------------------------------------------------------


def test_frontend_bucket_is_private_and_served_through_oac(edge: Template) -> None:
    bucket = only(edge, "AWS::S3::Bucket", {"VersioningConfiguration": {"Status": "Enabled"}})
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    oac = only(edge, "AWS::CloudFront::OriginAccessControl")
    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    config = frontend_distribution(edge)
    origin = config["Origins"][0]
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["Aliases"] == ["ticketing-pro.com"]
    assert "WebACLId" in config
    policies = json.dumps(resources(edge, "AWS::S3::BucketPolicy"))
    assert "cloudfront.amazonaws.com" in policies
    assert "AWS:SourceArn" in policies


def frontend_distribution(edge: Template) -> dict[str, Any]:
    for found in resources(edge, "AWS::CloudFront::Distribution").values():
        config: dict[str, Any] = found["Properties"]["DistributionConfig"]
        if config["Aliases"] == ["ticketing-pro.com"]:
            return config
    raise AssertionError("no frontend distribution")


def test_the_api_edge_caches_exactly_the_public_reads(edge: Template) -> None:
    configs = [
        d["Properties"]["DistributionConfig"]
        for d in resources(edge, "AWS::CloudFront::Distribution").values()
    ]
    (api,) = [c for c in configs if c["Aliases"] == ["api.ticketing-pro.com"]]
    origin = api["Origins"][0]
    assert origin["DomainName"] == "origin.api.ticketing-pro.com"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    default = api["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert set(default["AllowedMethods"]) >= {"POST", "PUT", "PATCH", "DELETE"}
    behaviours = {b["PathPattern"]: b for b in api["CacheBehaviors"]}
    assert set(behaviours) == {"/api/v1/events", "/api/v1/events/*", "/api/v1/search/*"}
    assert not any(p.startswith(("/api/v1/bookings", "/api/v1/payments")) for p in behaviours)
    for behaviour in behaviours.values():
        assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS"}
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
    (policy,) = resources(edge, "AWS::CloudFront::CachePolicy").values()
    config = policy["Properties"]["CachePolicyConfig"]
    # Nothing is kept unless the origin says so, and a signed-in caller has entries of its own.
    assert (config["DefaultTTL"], config["MinTTL"]) == (0, 0)
    keys = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert keys["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Authorization"]}
    assert keys["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert keys["CookiesConfig"]["CookieBehavior"] == "none"
    assert api["CustomErrorResponses"] == [{"ErrorCode": 404, "ErrorCachingMinTTL": 0}]
    assert "WebACLId" in api
    # Behind CloudFront and the ALB, the gateway trusts two forwarded-for hops and auth three.
    hops = {}
    for service in ("api-gateway", "auth"):
        definition = json.loads((catalog.TASK_DEFINITIONS_DIR / f"{service}.json").read_text())
        env = {e["name"]: e["value"] for e in definition["containerDefinitions"][0]["environment"]}
        hops[service] = env["TRUSTED_PROXY_HOPS"]
    assert hops == {"api-gateway": "2", "auth": "3"}


def test_only_the_services_that_declare_the_bookings_table_may_use_it(platform: Template) -> None:
    table = logical_id(platform, "AWS::DynamoDB::Table", {"TableName": catalog.BOOKINGS_TABLE})
    allowed = set()
    for policy in resources(platform, "AWS::IAM::Policy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(table in json.dumps(s.get("Resource")) for s in statements):
            for role in policy["Properties"]["Roles"]:
                name = role["Ref"]
                allowed.add(platform.to_json()["Resources"][name]["Properties"]["RoleName"])
    declared = {
        f"ticketing-{name}-task"
        for name, spec in catalog.TOPOLOGY.items()
        if catalog.BOOKINGS_TABLE in spec.dynamodb_tables
    }
    assert allowed == declared == {"ticketing-booking-task"}
