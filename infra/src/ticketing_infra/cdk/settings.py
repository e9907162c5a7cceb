"""What differs between installations, read from CDK context (`-c key=value` or cdk.json)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from constructs import Node

REQUIRED = ("apiCertificateArn", "frontendCertificateArn")


@dataclass(frozen=True)
class InfraSettings:
    account: str
    region: str
    # ACM certificate for the ALB's HTTPS listener (in `region`), and the API's host name.
    api_certificate_arn: str
    api_domain: str
    # CloudFront in front of the API: its certificate for `api_domain` (us-east-1; by default the
    # frontend's, which then covers both names) and the name it reaches the ALB by (a DNS name of
    # the ALB that the ALB's certificate covers).
    api_edge_certificate_arn: str
    api_origin_domain: str
    # ACM certificate for CloudFront (always in us-east-1), and the frontend's host name.
    frontend_certificate_arn: str
    frontend_domain: str
    # Requests per 5 minutes from one IP before CloudFront's WAF blocks it. The seed's 100 would
    # lock out a carrier NAT or a campus in the first minute of an on-sale (hundreds of buyers
    # behind one address, each polling a seat map); the gateway's own limits are per user.
    waf_rate_limit: int
    # Where alarms are emailed; none: the SNS topic exists and subscribers are added by hand.
    alarm_email: str | None

    @classmethod
    def from_context(cls, node: Node) -> InfraSettings:
        def get(key: str, default: str | None = None) -> str | None:
            value = node.try_get_context(key)
            return str(value) if value is not None else default

        missing = [key for key in REQUIRED if not get(key)]
        if missing:
            raise ValueError(
                "missing CDK context: "
                + ", ".join(missing)
                + " (pass -c key=value; infra/README.md)"
            )
        account = get("account", os.environ.get("CDK_DEFAULT_ACCOUNT"))
        region = get("region", os.environ.get("CDK_DEFAULT_REGION", "us-east-1"))
        if not account or not region:
            raise ValueError("no AWS account/region: pass -c account=... -c region=...")
        api_domain = str(get("apiDomain", "api.ticketing-pro.com"))
        return cls(
            account=account,
            region=region,
            api_certificate_arn=str(get("apiCertificateArn")),
            api_domain=api_domain,
            api_edge_certificate_arn=str(
                get("apiEdgeCertificateArn", get("frontendCertificateArn"))
            ),
            api_origin_domain=str(get("apiOriginDomain", f"origin.{api_domain}")),
            frontend_certificate_arn=str(get("frontendCertificateArn")),
            frontend_domain=str(get("frontendDomain", "ticketing-pro.com")),
            waf_rate_limit=int(get("wafRateLimit", "100000") or 100_000),
            alarm_email=get("alarmEmail"),
        )
