"""TicketingEdge (always us-east-1, where CloudFront's certificate and WAF must live): the
frontend bucket, the CloudFront distribution reading it through Origin Access Control, the
distribution in front of the API (`api.`), and the CloudFront-scoped WAF."""

from __future__ import annotations

from typing import Any

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
        self.api_distribution = self._api_cdn(settings, acl, logs_bucket)
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

    def _api_cdn(
        self, settings: InfraSettings, acl: Any, logs_bucket: s3.Bucket
    ) -> cloudfront.Distribution:
        """CloudFront in front of the ALB. It caches exactly the public reads that say they may
        be cached (an event, the listing, search, an event's layout: `Cache-Control: public`,
        ETag, 304) for as long as they say, and passes everything else through uncached with
        every header, cookie and query string (bookings, holds, payments, auth: all
        authenticated or changing). `Authorization` is part of the cache key of the public
        paths, so a signed-in caller never gets an anonymous caller's entry or the reverse; a
        draft (its organizer's) answers `private` and is never kept."""
        public_reads = cloudfront.CachePolicy(
            self,
            "ApiPublicReads",
            cache_policy_name="ticketing-api-public-reads",
            comment="The origin's Cache-Control decides; nothing without it is kept",
            default_ttl=Duration.seconds(0),
            min_ttl=Duration.seconds(0),
            max_ttl=Duration.days(365),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        origin = origins.HttpOrigin(
            settings.api_origin_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        cached = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            cache_policy=public_reads,
            compress=True,
        )
        distribution = cloudfront.Distribution(
            self,
            "ApiCdn",
            comment="Ticketing Pro API: public reads cached at the edge",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                compress=False,
            ),
            additional_behaviors=dict.fromkeys(catalog.EDGE_CACHED_API_PATHS, cached),
            # A 404 (a draft not published yet) is kept only as long as the origin says: not at
            # all, so publishing shows at once.
            error_responses=[cloudfront.ErrorResponse(http_status=404, ttl=Duration.seconds(0))],
            domain_names=[settings.api_domain],
            certificate=acm.Certificate.from_certificate_arn(
                self, "ApiEdgeCertificate", settings.api_edge_certificate_arn
            ),
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True,
            log_bucket=logs_bucket,
            log_file_prefix="cloudfront-api/",
            web_acl_id=acl.attr_arn,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
        )
        suppress(
            distribution,
            "AwsSolutions-CFR1",
            "Tickets are sold worldwide; no country is excluded by default (WAF handles abuse).",
        )
        return distribution
