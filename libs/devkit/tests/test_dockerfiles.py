"""The services' Dockerfiles: one recipe, each with its own service's names. What the recipe builds
and runs is checked by `make images-smoke` (buildah; too slow for every test run)."""

from __future__ import annotations

import json
import re

import pytest
from ticketing_devkit.stack import ROOT, ServiceSpec, discover

SPECS = discover()
TEMPLATE_SERVICE = "api-gateway"


def dockerfile(spec: ServiceSpec) -> str:
    return (ROOT / "services" / spec.name / "Dockerfile").read_text()


def distribution(spec: ServiceSpec) -> str:
    match = re.search(
        r'^name = "(.+)"$', (ROOT / "services" / spec.name / "pyproject.toml").read_text(), re.M
    )
    assert match
    return match.group(1)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n\s*",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_every_service_has_a_dockerfile() -> None:
    assert {spec.name for spec in SPECS} == {
        path.parent.name for path in ROOT.glob("services/*/Dockerfile")
    }


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_each_dockerfile_is_the_shared_recipe_with_its_own_names(spec: ServiceSpec) -> None:
    template = next(s for s in SPECS if s.name == TEMPLATE_SERVICE)
    expected = (
        dockerfile(template)
        .replace(f"The {template.name} image", f"The {spec.name} image")
        .replace(f"services/{template.name}/", f"services/{spec.name}/")
        .replace(f"ticketing/{template.name} ", f"ticketing/{spec.name} ")
        .replace(f"--package {distribution(template)}\n", f"--package {distribution(spec)}\n")
        .replace(f'"{template.app}"', f'"{spec.app}"')
    )
    assert dockerfile(spec) == expected


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_the_recipe_builds_with_uv_and_runs_the_service_app(spec: ServiceSpec) -> None:
    steps = instructions(dockerfile(spec))
    args = {rest.split("=", 1)[0]: rest.split("=", 1)[1] for kind, rest in steps if kind == "ARG"}
    # Base image and uv are build arguments with pinned defaults.
    assert set(args) == {"BASE_IMAGE", "UV_IMAGE"}
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", args["UV_IMAGE"])
    assert not args["BASE_IMAGE"].endswith(":latest")
    froms = [rest for kind, rest in steps if kind == "FROM"]
    assert froms == ["${UV_IMAGE} AS uv", "${BASE_IMAGE} AS build", "${BASE_IMAGE}"]

    runs = [rest for kind, rest in steps if kind == "RUN"]
    dependencies, members = (run for run in runs if "uv sync" in run)
    dist = distribution(spec)
    assert "--mount=type=cache,target=/root/.cache/uv" in dependencies
    assert "--mount=type=bind,source=uv.lock,target=/src/uv.lock" in dependencies
    assert dependencies.endswith(
        f"uv sync --frozen --no-install-workspace --no-dev --package {dist}"
    )
    assert members.endswith(f"uv sync --frozen --no-dev --no-editable --package {dist}")
    env = " ".join(rest for kind, rest in steps if kind == "ENV")
    assert "UV_COMPILE_BYTECODE=1" in env

    # The runtime stage: only the virtualenv, a non-root user, a health check without curl.
    runtime = steps[max(i for i, (kind, _) in enumerate(steps) if kind == "FROM") :]
    copies = [rest for kind, rest in runtime if kind == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    assert ("USER", "app") in runtime
    health = next(rest for kind, rest in runtime if kind == "HEALTHCHECK")
    assert json.loads(health.split("CMD", 1)[1])[:2] == ["python", "-c"]
    command = json.loads(next(rest for kind, rest in runtime if kind == "CMD"))
    assert command[:3] == ["uvicorn", "--factory", spec.app]
    # httptools with the header-read timeout (ticketing_common.server)
    assert command[3:7] == [
        "--loop",
        "uvloop",
        "--http",
        "ticketing_common.server:HttpToolsProtocol",
    ]
