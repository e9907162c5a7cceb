"""TicketingEdge (always us-east-1, where CloudFront's certificate and WAF must live): the
frontend bucket, the CloudFront distribution reading it through Origin Access Control, and the
CloudFront-scoped WAF."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ticketing_infra import catalog
from ticketing_infra.cdk.nag import suppress
from ticketing_infra.cdk.settings import InfraSettings
from ticketing_infra.cdk.waf import web_acl


class EdgeStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: InfraSettings, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        logs_bucket = s3.Bucket(
            self,
            "EdgeLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront standard logging writes with ACLs.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        suppress(
            logs_bucket,
            "AwsSolutions-S1",
            "This is the log bucket for CloudFront and the frontend bucket; logging it into "
            "itself would loop.",
        )
        self.bucket = s3.Bucket(
            self,
            "Frontend",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="frontend-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        acl = web_acl(
            self,
            "FrontendWaf",
            name="ticketing-waf",
            scope_kind="CLOUDFRONT",
            rate_limit=settings.waf_rate_limit,
        )
        # A single-page app: unknown paths are client routes, served by index.html.
        spa_fallback = [
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path="/index.html",
                ttl=Duration.seconds(0),
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Cdn",
            comment="Ticketing Pro Frontend CDN",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                compress=True,
            ),
            default_root_object="index.html",
            error_responses=spa_fallback,
            domain_names=[settings.frontend_domain],
            certificate=acm.Certificate.from_certificate_arn(
                self, "FrontendCertificate", settings.frontend_certificate_arn
            ),
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True,
            log_bucket=logs_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=acl.attr_arn,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        suppress(
            self.distribution,
            "AwsSolutions-CFR1",
            "Tickets are sold worldwide; no country is excluded by default (WAF handles abuse).",
        )
        ssm.StringParameter(
            self,
            "EdgeParameter",
            parameter_name=catalog.EDGE_PARAMETER,
            description="Read by `make deploy`: where the frontend goes",
            string_value=self.to_json_string(
                {
                    "bucket": self.bucket.bucket_name,
                    "distribution_id": self.distribution.distribution_id,
                }
            ),
        )
