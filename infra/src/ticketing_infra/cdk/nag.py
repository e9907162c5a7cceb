"""cdk-nag acknowledgments (suppressions), each with the reason it is right for this platform."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def suppress(
    construct: IConstruct, rule: str, reason: str, *, applies_to: list[str] | None = None
) -> None:
    """Acknowledge `rule` on `construct` (and what it contains); with `applies_to`, only those
    findings of the rule (e.g. IAM5's `Resource::*`)."""
    ids = [f"{rule}[{finding}]" for finding in applies_to] if applies_to else [rule]
    Validations.of(construct).acknowledge(*(Acknowledgment(id=i, reason=reason) for i in ids))
