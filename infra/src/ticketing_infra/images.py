"""Container images: the tag is the git commit; building and pushing are commands run per
service, so docker, podman, buildah or anything else can do it.

The command templates get `{image}` (registry/repository:tag), `{dockerfile}` (the one Dockerfile
every service builds from), `{context}` (the repository root: services build against the shared
workspace) and `{service}` (the folder under services/, the Dockerfile's SERVICE argument).
"""

from __future__ import annotations

import base64
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketing_infra.catalog import REPO_ROOT, ServiceSpec


class ImageError(RuntimeError):
    pass


def git_commit(repo: Path = REPO_ROOT, *, allow_dirty: bool = False) -> str:
    """HEAD's sha; refused when the work tree has changes, since the image would not be that
    commit."""

    def git(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - git with our own arguments
            ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, as a person runs it
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ImageError(f"git {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout.strip()

    sha = git("rev-parse", "HEAD")
    if not allow_dirty and git("status", "--porcelain", "--untracked-files=no"):
        raise ImageError("the work tree has uncommitted changes: commit them or pass --allow-dirty")
    return sha


@dataclass(frozen=True)
class Builder:
    """How images are built, pushed and how the registry is logged into."""

    build: str
    push: str
    login: str | None = None  # gets the registry password on stdin

    @classmethod
    def for_tool(cls, tool: str) -> Builder:
        command = {"docker": "docker build", "podman": "podman build", "buildah": "buildah bud"}[
            tool
        ]
        build = (
            f"{command} -f {{dockerfile}} --build-arg SERVICE={{service}} -t {{image}} {{context}}"
        )
        return cls(
            build=build,
            push=f"{tool} push {{image}}",
            login=f"{tool} login --username AWS --password-stdin {{registry}}",
        )

    @classmethod
    def detect(cls) -> Builder:
        for tool in ("docker", "podman", "buildah"):
            if shutil.which(tool):
                return cls.for_tool(tool)
        raise ImageError(
            "no docker, podman or buildah on PATH: install one, or pass --build-command and "
            "--push-command (or set TICKETING_BUILD_COMMAND / TICKETING_PUSH_COMMAND)"
        )


def _run(template: str, stdin: str | None = None, **values: str) -> None:
    command = [part.format(**values) for part in shlex.split(template)]
    # The operator's own build/push/login command (argument or environment), never a shell.
    result = subprocess.run(  # noqa: S603
        command, input=stdin, text=True, capture_output=True, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise ImageError(
            f"`{shlex.join(command)}` exited {result.returncode}\n" + "\n".join(output)
        )


def image_exists(ecr: Any, spec: ServiceSpec, tag: str) -> bool:
    try:
        ecr.describe_images(repositoryName=spec.repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return False
    return True


def login(ecr: Any, builder: Builder) -> None:
    if builder.login is None:
        return
    data = ecr.get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]
    registry = data["proxyEndpoint"].removeprefix("https://")
    _run(builder.login, stdin=password, registry=registry)


def build_and_push(ecr: Any, builder: Builder, spec: ServiceSpec, image: str, tag: str) -> None:
    values = {
        "image": image,
        "dockerfile": str(spec.dockerfile),
        "context": str(REPO_ROOT),
        "service": spec.name,
    }
    _run(builder.build, **values)
    _run(builder.push, **values)
    if not image_exists(ecr, spec, tag):
        raise ImageError(f"{image}: the push finished but ECR has no such image")
