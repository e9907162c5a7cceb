"""TicketingPlatform: everything the services run on and nothing that changes per release.

Network (VPC over two AZs, flow logs), security groups (ALB -> tasks -> data stores), the ALB and
its WAF, RDS PostgreSQL, the DynamoDB bookings table, ElastiCache Redis, OpenSearch, ECR
repositories, the ECS cluster and its Service Connect namespace, log groups, IAM roles, the
secrets the task definitions reference, the alarm topic, and the SSM parameter `make deploy`
reads. Task definitions are NOT here: `make deploy` registers them from task-definitions/.
"""

from __future__ import annotations

from aws_cdk import (
    Duration,
    RemovalPolicy,
    SecretValue,
    Stack,
)
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ticketing_infra import catalog
from ticketing_infra.catalog import ServiceSpec
from ticketing_infra.cdk.nag import suppress
from ticketing_infra.cdk.settings import InfraSettings
from ticketing_infra.cdk.waf import web_acl

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DB_USER = "ticketing"
# Secrets composed from the data stores' endpoints and generated credentials.
REDIS_URL_SECRET = "ticketing/redis-url"  # noqa: S105 - a secret's name
INVENTORY_REDIS_URL_SECRET = "ticketing/inventory-redis-url"  # noqa: S105 - a secret's name
# Inventory's Redis Cluster: one hot event is one hash slot (all its keys carry {event_id}), so
# one shard's primary; many events spread over the shards (inventory/README.md, "The limits").
INVENTORY_REDIS_SHARDS = 3
OPENSEARCH_URL_SECRET = "ticketing/search/opensearch-url"  # noqa: S105 - a name
# Characters a generated password may not contain, so it can sit inside a URL unescaped.
URL_UNSAFE = " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}"


def database_url_secret(service: str) -> str:
    return f"ticketing/{service}/database-url"


class PlatformStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        services: list[ServiceSpec],
        settings: InfraSettings,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, termination_protection=True, **kwargs)  # type: ignore[arg-type]
        self.services = services
        self.settings = settings

        self.alarm_topic = self._alarm_topic()
        self.vpc = self._network()
        self._security_groups()
        self.access_logs = self._access_log_bucket()
        self._load_balancer()
        self._database()
        self._bookings_table()
        self._redis()
        self._search_domain()
        self._cluster()
        self.repositories = {spec.name: self._repository(spec) for spec in services}
        self.log_groups = {spec.name: self._log_group(spec) for spec in services}
        self.secrets = self._secrets()
        self._roles()
        self._deploy_parameter()

    # -- alarms ---------------------------------------------------------------------------

    def _alarm_topic(self) -> sns.Topic:
        # CloudWatch can only publish to a topic encrypted with a key whose policy lets it in.
        key = kms.Key(self, "AlarmTopicKey", enable_key_rotation=True)
        key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        topic = sns.Topic(
            self, "Alarms", topic_name="ticketing-alarms", master_key=key, enforce_ssl=True
        )
        if self.settings.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.settings.alarm_email))
        return topic

    # -- network --------------------------------------------------------------------------

    def _network(self) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name="ticketing-vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            max_azs=2,
            nat_gateways=2,  # one per AZ: losing an AZ must not cut the other off the internet
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24
                ),
            ],
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            log_group_name="/aws/vpc/ticketing",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        return vpc

    def _security_groups(self) -> None:
        def group(id: str, name: str, description: str, outbound: bool) -> ec2.SecurityGroup:
            return ec2.SecurityGroup(
                self,
                id,
                vpc=self.vpc,
                security_group_name=name,
                description=description,
                allow_all_outbound=outbound,
            )

        self.alb_sg = group("AlbSg", "ticketing-alb-sg", "ALB: HTTPS from CloudFront", False)
        # Tasks reach ECR, Secrets Manager, Stripe, SES and their peers: outbound stays open.
        self.tasks_sg = group("TasksSg", "ticketing-ecs-sg", "ECS tasks: only from ALB", True)
        self.db_sg = group("DbSg", "ticketing-db-sg", "RDS: only from ECS tasks", False)
        self.redis_sg = group("RedisSg", "ticketing-redis-sg", "Redis: only from ECS tasks", False)
        self.search_sg = group(
            "SearchSg", "ticketing-opensearch-sg", "OpenSearch: only from ECS tasks", False
        )
        port = ec2.Port.tcp(catalog.CONTAINER_PORT)
        # Only CloudFront's origin-facing addresses reach the ALB: the API's edge (TicketingEdge)
        # is the only way in, so the X-Forwarded-For hops the gateway and auth trust (CloudFront,
        # then the ALB) cannot be forged by going round it.
        cloudfront = ec2.PrefixList.from_lookup(
            self,
            "CloudFrontOriginFacing",
            prefix_list_name="com.amazonaws.global.cloudfront.origin-facing",
        )
        edge = ec2.Peer.prefix_list(cloudfront.prefix_list_id)
        self.alb_sg.add_ingress_rule(edge, ec2.Port.tcp(443), "HTTPS from CloudFront")
        self.alb_sg.add_ingress_rule(edge, ec2.Port.tcp(80), "redirect to HTTPS")
        self.alb_sg.add_egress_rule(self.tasks_sg, port, "to the tasks")
        self.tasks_sg.add_ingress_rule(self.alb_sg, port, "from the ALB")
        # Service Connect: services call each other task to task on the service port.
        self.tasks_sg.add_ingress_rule(self.tasks_sg, port, "from peer services")
        self.db_sg.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(5432), "PostgreSQL from tasks")
        self.redis_sg.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(6379), "Redis from tasks")
        self.search_sg.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(443), "OpenSearch from tasks")
        suppress(
            self.alb_sg,
            "AwsSolutions-EC23",
            "The internet-facing ALB is the public entry point: it must accept 443 (and 80, "
            "which only redirects to 443) from anywhere; WAF filters what comes in.",
        )

    # -- edge of the API ------------------------------------------------------------------

    def _access_log_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # ALB log delivery supports SSE-S3 only
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        suppress(
            bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging its own access into itself would "
            "loop, and it is written only by the ALB and the frontend bucket's log delivery.",
        )
        return bucket

    def _load_balancer(self) -> None:
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            load_balancer_name="ticketing-alb",
            vpc=self.vpc,
            internet_facing=True,
            security_group=self.alb_sg,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            deletion_protection=True,
            # Slow clients stop here: the ALB reads each request's headers itself before it picks
            # a target (the gateway only ever sees whole requests) and closes a client connection
            # idle this long. The services' own header-read timeout (ticketing_common.server)
            # guards every other way in.
            idle_timeout=Duration.seconds(catalog.ALB_IDLE_TIMEOUT_SECONDS),
        )
        self.alb.log_access_logs(self.access_logs, prefix="alb")
        self.https_listener = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(self.settings.api_certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=False,  # ingress is the security group's rule above, not one CDK adds
            default_action=elbv2.ListenerAction.fixed_response(
                404,
                content_type="application/json",
                message_body='{"title":"Not Found","status":404}',
            ),
        )
        self.alb.add_listener(
            "Http",
            port=80,
            open=False,
            default_action=elbv2.ListenerAction.redirect(
                protocol="HTTPS", port="443", permanent=True
            ),
        )
        acl = web_acl(
            self,
            "ApiWaf",
            name="ticketing-api-waf",
            scope_kind="REGIONAL",
            rate_limit=None,  # the ALB only hears CloudFront; the per-IP limit is at the edge
        )
        wafv2.CfnWebACLAssociation(
            self, "ApiWafAlb", resource_arn=self.alb.load_balancer_arn, web_acl_arn=acl.attr_arn
        )

    # -- data stores ----------------------------------------------------------------------

    def _database(self) -> None:
        self.db_credentials = secretsmanager.Secret(
            self,
            "DbCredentials",
            secret_name="ticketing/rds/master",  # noqa: S106 - a name, not a value
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=f'{{"username": "{DB_USER}"}}',
                generate_string_key="password",
                exclude_characters=URL_UNSAFE,
                password_length=32,
            ),
        )
        self._no_rotation(
            self.db_credentials,
            "DATABASE_URL secrets are composed from this password when the stack deploys; "
            "rotation is the runbook's manual step (infra/README.md) so they change together.",
        )
        db_logs = logs.LogGroup(
            self,
            "DbLogs",
            log_group_name=f"/aws/rds/instance/{catalog.DB_INSTANCE_ID}/postgresql",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.database = rds.DatabaseInstance(
            self,
            "Postgres",
            instance_identifier=catalog.DB_INSTANCE_ID,
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
            instance_type=ec2.InstanceType("r6g.xlarge"),
            credentials=rds.Credentials.from_secret(self.db_credentials),
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.db_sg],
            multi_az=True,
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=100,
            max_allocated_storage=500,
            backup_retention=Duration.days(7),
            preferred_backup_window="03:00-04:00",
            enable_performance_insights=True,
            performance_insight_retention=rds.PerformanceInsightRetention.DEFAULT,
            cloudwatch_logs_exports=["postgresql"],
            deletion_protection=True,
            auto_minor_version_upgrade=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
        )
        self.database.node.add_dependency(db_logs)  # created with retention before RDS makes it
        suppress(
            self.database,
            "AwsSolutions-RDS11",
            "Port 5432 is reachable only from the tasks' security group in private subnets; a "
            "non-default port adds nothing behind that.",
        )

    def _bookings_table(self) -> None:
        table = dynamodb.Table(
            self,
            "Bookings",
            table_name=catalog.BOOKINGS_TABLE,
            partition_key=dynamodb.Attribute(name="booking_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index, key in (("user-index", "user_id"), ("event-index", "event_id")):
            table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=key, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        self.bookings_table = table

    def _redis(self) -> None:
        self.redis_token = secretsmanager.Secret(
            self,
            "RedisAuthToken",
            secret_name="ticketing/redis/auth-token",  # noqa: S106 - a name, not a value
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=64
            ),
        )
        self._no_rotation(
            self.redis_token,
            "REDIS_URL is composed from this token when the stack deploys; ElastiCache token "
            "rotation (ROTATE then SET) is the runbook's manual step, infra/README.md.",
        )
        subnets = elasticache.CfnSubnetGroup(
            self,
            "RedisSubnets",
            cache_subnet_group_name="ticketing-redis-subnet",
            description="Subnet group for Redis",
            subnet_ids=self.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            ).subnet_ids,
        )
        self.redis = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_id="ticketing-redis",
            replication_group_description="Redis for Ticketing: inventory, bus, rate limits",
            engine="redis",
            engine_version="7.1",
            cache_node_type="cache.r6g.large",
            num_cache_clusters=2,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[self.redis_sg.security_group_id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=self.redis_token.secret_value.unsafe_unwrap(),
            snapshot_retention_limit=7,
            snapshot_window="04:00-05:00",
            auto_minor_version_upgrade=True,
        )
        suppress(
            self.redis,
            "AwsSolutions-AEC5",
            "Port 6379 is reachable only from the tasks' security group in private subnets, "
            "over TLS with an AUTH token; a non-default port adds nothing behind that.",
        )
        # Seats and holds: cluster mode, the keys of one event in one slot. The other services'
        # Redis (bus streams, rate-limit buckets, idempotency) stays the group above: their
        # scripts and stream reads span keys of different slots.
        self.inventory_redis = elasticache.CfnReplicationGroup(
            self,
            "InventoryRedis",
            replication_group_id="ticketing-inventory-redis",
            replication_group_description="Redis Cluster for Ticketing's seat inventory",
            engine="redis",
            engine_version="7.1",
            cache_node_type="cache.r6g.large",
            cache_parameter_group_name="default.redis7.cluster.on",
            num_node_groups=INVENTORY_REDIS_SHARDS,
            replicas_per_node_group=1,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[self.redis_sg.security_group_id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=self.redis_token.secret_value.unsafe_unwrap(),
            snapshot_retention_limit=7,
            snapshot_window="04:00-05:00",
            auto_minor_version_upgrade=True,
        )
        suppress(
            self.inventory_redis,
            "AwsSolutions-AEC5",
            "Port 6379 is reachable only from the tasks' security group in private subnets, "
            "over TLS with an AUTH token; a non-default port adds nothing behind that.",
        )

    def _search_domain(self) -> None:
        self.search_master = secretsmanager.Secret(
            self,
            "SearchMaster",
            secret_name="ticketing/opensearch/master",  # noqa: S106 - a name, not a value
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"username": "ticketing"}',  # noqa: S106 - no secret
                generate_string_key="password",
                exclude_characters=URL_UNSAFE,  # '-', '.', '_' and '~' remain as specials
                require_each_included_type=True,
                password_length=32,
            ),
        )
        self._no_rotation(
            self.search_master,
            "OPENSEARCH_URL is composed from this password when the stack deploys; rotation "
            "is the runbook's manual step (infra/README.md).",
        )
        log_groups = {
            kind: logs.LogGroup(
                self,
                f"Search{kind}Logs",
                log_group_name=f"/aws/opensearch/ticketing-search/{kind.lower()}",
                retention=LOG_RETENTION,
                removal_policy=RemovalPolicy.DESTROY,
            )
            for kind in ("App", "SlowSearch", "SlowIndex")
        }
        logs.CfnResourcePolicy(
            self,
            "SearchLogsPolicy",
            policy_name="ticketing-opensearch-logs",
            policy_document=self.to_json_string(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "es.amazonaws.com"},
                            "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                            "Resource": [g.log_group_arn for g in log_groups.values()],
                        }
                    ],
                }
            ),
        )
        private = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.search = opensearch.Domain(
            self,
            "Search",
            domain_name="ticketing-search",
            version=opensearch.EngineVersion.OPENSEARCH_2_19,
            vpc=self.vpc,
            vpc_subnets=[ec2.SubnetSelection(subnets=private.subnets)],
            security_groups=[self.search_sg],
            zone_awareness=opensearch.ZoneAwarenessConfig(enabled=True, availability_zone_count=2),
            capacity=opensearch.CapacityConfig(
                data_nodes=2,
                data_node_instance_type="r6g.large.search",
                master_nodes=3,
                master_node_instance_type="r6g.large.search",
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(volume_size=100, volume_type=ec2.EbsDeviceVolumeType.GP3),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(
                master_user_name="ticketing",
                master_user_password=self.search_master.secret_value_from_json("password"),
            ),
            logging=opensearch.LoggingOptions(
                app_log_enabled=True,
                app_log_group=log_groups["App"],
                slow_search_log_enabled=True,
                slow_search_log_group=log_groups["SlowSearch"],
                slow_index_log_enabled=True,
                slow_index_log_group=log_groups["SlowIndex"],
            ),
            suppress_logs_resource_policy=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Fine-grained access control authenticates every request (the search service's user
        # from OPENSEARCH_URL); the domain policy only has to let requests reach it. Set on the
        # L1 resource: CDK's access-policy helper would add a Lambda-backed custom resource.
        domain_arn = f"arn:{self.partition}:es:{self.region}:{self.account}:domain/ticketing-search"
        cfn_domain = self.search.node.default_child
        assert isinstance(cfn_domain, opensearch.CfnDomain)
        cfn_domain.access_policies = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "es:ESHttp*",
                    "Resource": f"{domain_arn}/*",
                }
            ],
        }
        suppress(
            self.search,
            "AwsSolutions-OS3",
            "The domain is in private subnets behind a security group open only to the ECS "
            "tasks; an IP allowlist in the access policy would duplicate that.",
        )
        suppress(
            self.search,
            "AwsSolutions-OS5",
            "Fine-grained access control authenticates every request with the internal user "
            "database; the resource policy only lets requests reach it from inside the VPC.",
        )

    # -- containers -----------------------------------------------------------------------

    def _cluster(self) -> None:
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=catalog.CLUSTER_NAME,
            vpc=self.vpc,
            enable_fargate_capacity_providers=True,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
        )
        self.cluster.add_default_capacity_provider_strategy(
            [
                ecs.CapacityProviderStrategy(capacity_provider="FARGATE", weight=1),
                ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=4),
            ]
        )
        self.namespace = servicediscovery.HttpNamespace(
            self,
            "Namespace",
            name=catalog.SERVICE_CONNECT_NAMESPACE,
            description="Service Connect: <service>.ticketing.local:8000",
        )

    def _repository(self, spec: ServiceSpec) -> ecr.Repository:
        return ecr.Repository(
            self,
            f"Repo-{spec.name}",
            repository_name=spec.repository,
            image_scan_on_push=True,
            # Tags are git shas: one tag, one image, forever (deploy skips builds it has).
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=100)],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _log_group(self, spec: ServiceSpec) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            f"Logs-{spec.name}",
            log_group_name=spec.log_group,
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )

    # -- secrets --------------------------------------------------------------------------

    def _secrets(self) -> dict[str, secretsmanager.Secret]:
        """One secret for every `${SECRET:name}` the task definitions reference: composed from
        the data stores where it is a connection URL, generated otherwise (SERVICE_TOKEN; and a
        placeholder for what an operator must set: signing keys, Stripe keys)."""
        composed = self._composed_secret_values()
        secrets: dict[str, secretsmanager.Secret] = {}
        for name in sorted({n for spec in self.services for n in spec.secret_names}):
            construct_id = "Secret-" + name.replace("/", "-")
            if name in composed:
                secret = secretsmanager.Secret(
                    self,
                    construct_id,
                    secret_name=name,
                    secret_string_value=SecretValue.unsafe_plain_text(composed[name]),
                )
            else:
                secret = secretsmanager.Secret(
                    self,
                    construct_id,
                    secret_name=name,
                    generate_secret_string=secretsmanager.SecretStringGenerator(
                        exclude_punctuation=True, password_length=48
                    ),
                )
            self._no_rotation(
                secret,
                "Application secret read by ECS at task start; it is rotated by setting a new "
                "value and running `make deploy` (new tasks read it), per infra/README.md.",
            )
            secrets[name] = secret
        return secrets

    def _composed_secret_values(self) -> dict[str, str]:
        """Connection URLs whose credentials are CloudFormation dynamic references: resolved at
        deploy time, never written into the template."""
        db_password = self.db_credentials.secret_value_from_json("password").unsafe_unwrap()
        db_host = self.database.db_instance_endpoint_address
        values = {}
        for spec in self.services:
            # The production database of each SQL-owning service: the `database` it declares.
            database = catalog.TOPOLOGY[spec.name].database
            if spec.owns_database and database:
                values[database_url_secret(spec.name)] = (
                    f"postgresql+asyncpg://{DB_USER}:{db_password}@{db_host}:5432/{database}"
                )
        token = self.redis_token.secret_value.unsafe_unwrap()
        values[REDIS_URL_SECRET] = (
            f"rediss://:{token}@{self.redis.attr_primary_end_point_address}:"
            f"{self.redis.attr_primary_end_point_port}/0"
        )
        values[INVENTORY_REDIS_URL_SECRET] = (  # any node: redis-py's cluster client discovers
            f"rediss://:{token}@{self.inventory_redis.attr_configuration_end_point_address}:"
            f"{self.inventory_redis.attr_configuration_end_point_port}/0"
        )
        search_password = self.search_master.secret_value_from_json("password").unsafe_unwrap()
        values[OPENSEARCH_URL_SECRET] = (
            f"https://ticketing:{search_password}@{self.search.domain_endpoint}:443"
        )
        return values

    @staticmethod
    def _no_rotation(secret: secretsmanager.Secret, reason: str) -> None:
        suppress(secret, "AwsSolutions-SMG4", reason)

    # -- IAM --------------------------------------------------------------------------------

    def _roles(self) -> None:
        tasks = iam.ServicePrincipal("ecs-tasks.amazonaws.com")
        self.execution_role = iam.Role(
            self, "ExecutionRole", role_name=catalog.EXECUTION_ROLE_NAME, assumed_by=tasks
        )
        for repository in self.repositories.values():
            repository.grant_pull(self.execution_role)
        for group in self.log_groups.values():
            group.grant_write(self.execution_role)
        for secret in self.secrets.values():
            secret.grant_read(self.execution_role)
        suppress(
            self.execution_role,
            "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken has no resource-level permissions (Resource '*'); every "
            "other grant names its repository, log group or secret.",
            applies_to=["Resource::*"],
        )
        self.task_roles = {}
        for spec in self.services:
            role = iam.Role(
                self, f"TaskRole-{spec.name}", role_name=spec.task_role_name, assumed_by=tasks
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                    ],
                    resources=["*"],
                )
            )
            wildcard_reasons = [
                ("Resource::*", "X-Ray's trace actions have no resource-level permissions.")
            ]
            # The DynamoDB tables a service declares it owns (its pyproject's dynamodb-tables).
            if catalog.BOOKINGS_TABLE in catalog.TOPOLOGY[spec.name].dynamodb_tables:
                self.bookings_table.grant_read_write_data(role)
                wildcard_reasons.append(
                    (
                        f"Resource::<{self.get_logical_id(self.bookings_table.node.default_child)}.Arn>/index/*",  # type: ignore[arg-type]
                        "Queries by user and by event go through the table's GSIs "
                        "(user-index, event-index), which the index/* ARN covers.",
                    )
                )
            if spec.name == "notification":
                identities = f"arn:aws:ses:{self.region}:{self.account}:identity/*"
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["ses:SendEmail", "ses:SendRawEmail"], resources=[identities]
                    )
                )
                wildcard_reasons.append(
                    (
                        f"Resource::{identities}",
                        "The sending identity (domain or address) is verified in SES by the "
                        "operator; sending is limited to this account's identities.",
                    )
                )
            for applies_to, reason in wildcard_reasons:
                suppress(role, "AwsSolutions-IAM5", reason, applies_to=[applies_to])
            self.task_roles[spec.name] = role

    # -- what deploy reads ------------------------------------------------------------------

    def _deploy_parameter(self) -> None:
        private = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        ssm.StringParameter(
            self,
            "DeployParameter",
            parameter_name=catalog.DEPLOY_PARAMETER,
            description="Read by `make deploy`: where one-off tasks (migrations) run, the API",
            string_value=self.to_json_string(
                {
                    "cluster": self.cluster.cluster_name,
                    "subnets": private.subnet_ids,
                    "security_groups": [self.tasks_sg.security_group_id],
                    # The public API, where the post-deploy smoke runs.
                    "api_url": f"https://{self.settings.api_domain}",
                }
            ),
        )
