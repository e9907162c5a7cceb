"""The WAF rules the seed asks for: per-IP rate limit, SQL injection, XSS, known bad inputs."""

from __future__ import annotations

from aws_cdk import aws_wafv2 as waf
from constructs import Construct


def _visibility(name: str) -> waf.CfnWebACL.VisibilityConfigProperty:
    return waf.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _managed(name: str, priority: int) -> waf.CfnWebACL.RuleProperty:
    return waf.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=waf.CfnWebACL.OverrideActionProperty(none={}),
        statement=waf.CfnWebACL.StatementProperty(
            managed_rule_group_statement=waf.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name
            )
        ),
        visibility_config=_visibility(name),
    )


def _xss(priority: int) -> waf.CfnWebACL.RuleProperty:
    transforms = [
        waf.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE"),
        waf.CfnWebACL.TextTransformationProperty(priority=1, type="HTML_ENTITY_DECODE"),
    ]
    parts = {
        "body": waf.CfnWebACL.FieldToMatchProperty(body={"OversizeHandling": "CONTINUE"}),
        "query": waf.CfnWebACL.FieldToMatchProperty(query_string={}),
        "path": waf.CfnWebACL.FieldToMatchProperty(uri_path={}),
    }
    return waf.CfnWebACL.RuleProperty(
        name="CrossSiteScripting",
        priority=priority,
        action=waf.CfnWebACL.RuleActionProperty(block={}),
        statement=waf.CfnWebACL.StatementProperty(
            or_statement=waf.CfnWebACL.OrStatementProperty(
                statements=[
                    waf.CfnWebACL.StatementProperty(
                        xss_match_statement=waf.CfnWebACL.XssMatchStatementProperty(
                            field_to_match=field, text_transformations=transforms
                        )
                    )
                    for field in parts.values()
                ]
            )
        ),
        visibility_config=_visibility("CrossSiteScripting"),
    )


def web_acl(
    scope: Construct, id: str, *, name: str, scope_kind: str, rate_limit: int | None
) -> waf.CfnWebACL:
    """A web ACL for `scope_kind` "REGIONAL" (the ALB) or "CLOUDFRONT". `rate_limit` None: no
    per-IP rule — behind CloudFront every request reaches the ALB from a CloudFront address, so a
    per-IP limit there would count edge locations, not clients."""
    rules = [
        _managed("AWSManagedRulesSQLiRuleSet", 1),
        _managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
        _xss(3),
    ]
    if rate_limit is not None:
        rules.insert(0, _rate_per_ip(rate_limit))
    return waf.CfnWebACL(
        scope,
        id,
        name=name,
        scope=scope_kind,
        default_action=waf.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility(name),
        rules=rules,
    )


def _rate_per_ip(rate_limit: int) -> waf.CfnWebACL.RuleProperty:
    return waf.CfnWebACL.RuleProperty(
        name="RatePerIp",
        priority=0,
        action=waf.CfnWebACL.RuleActionProperty(block={}),
        statement=waf.CfnWebACL.StatementProperty(
            rate_based_statement=waf.CfnWebACL.RateBasedStatementProperty(
                limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=300
            )
        ),
        visibility_config=_visibility("RatePerIp"),
    )
