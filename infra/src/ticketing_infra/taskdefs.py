"""Rendering task definition files into `RegisterTaskDefinition` input, and checking them against
botocore's own model of that operation.

Placeholders: `${ACCOUNT_ID}`, `${REGION}`, `${IMAGE}` (the app image, repository:tag) and
`${SECRET:<name>}` (the full ARN of that Secrets Manager secret, looked up at deploy time, so the
files carry names rather than ARNs with random suffixes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)(?::([^}]+))?\}")


class RenderError(ValueError):
    pass


def render(
    template: Mapping[str, Any],
    values: Mapping[str, str],
    secret_arn: Callable[[str], str],
) -> dict[str, Any]:
    """A copy of `template` with every placeholder replaced; unknown placeholders are an error."""

    def substitute(match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2)
        if kind == "SECRET" and argument:
            return secret_arn(argument)
        if argument is None and kind in values:
            return values[kind]
        raise RenderError(f"unknown placeholder {match.group(0)}")

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return PLACEHOLDER.sub(substitute, node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        return node

    rendered: dict[str, Any] = walk(dict(template))
    return rendered


def validation_errors(task_definition: Mapping[str, Any]) -> str | None:
    """What botocore's ParamValidator says about `task_definition` as RegisterTaskDefinition
    input (unknown keys, wrong types, missing required members); None when it is valid."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(dict(task_definition), shape)
    return report.generate_report() if report.has_errors() else None


def validate(task_definition: Mapping[str, Any]) -> None:
    errors = validation_errors(task_definition)
    if errors:
        raise RenderError(f"{task_definition.get('family')}: {errors}")


def canonical(task_definition: Mapping[str, Any]) -> str:
    """Stable text of a task definition, for comparing what would be registered."""
    return json.dumps(task_definition, sort_keys=True, separators=(",", ":"))
