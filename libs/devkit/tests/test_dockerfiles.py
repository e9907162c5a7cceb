"""The one Dockerfile every service's image is built from (`--build-arg SERVICE=<folder>`), and
`docker/service.py`, which tells it the service's distribution and app. That the recipe builds and
runs is proven by `make compose-check` (Docker; minutes, so not in every test run)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ticketing_devkit.stack import ROOT, ServiceSpec, discover

SPECS = discover()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SERVICE_PY = ROOT / "docker" / "service.py"


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


# httptools with the header-read timeout, as `make dev` serves them (ticketing_devkit.processes).
HTTP_PROTOCOL = "ticketing_common.server:HttpToolsProtocol"


def service_py(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SERVICE_PY), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


STEPS = instructions(DOCKERFILE)
RUNTIME = STEPS[max(i for i, (kind, _) in enumerate(STEPS) if kind == "FROM") :]


def test_one_dockerfile_builds_every_service() -> None:
    assert list(ROOT.glob("services/*/Dockerfile")) == []
    # No `# syntax=` directive: the frontend built into the engine, none fetched from a registry.
    assert not re.search(r"^#\s*syntax\s*=", DOCKERFILE, re.M | re.I)


def test_the_base_image_and_uv_are_pinned_build_arguments_and_service_is_required() -> None:
    args = {rest.split("=", 1)[0]: rest.partition("=")[2] for kind, rest in STEPS if kind == "ARG"}
    assert set(args) == {"BASE_IMAGE", "UV_IMAGE", "SERVICE"}
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", args["UV_IMAGE"])
    assert not args["BASE_IMAGE"].endswith(":latest")
    assert args["SERVICE"] == "", "SERVICE has no default: an image is always of one service"
    froms = [rest for kind, rest in STEPS if kind == "FROM"]
    assert froms == [
        "${UV_IMAGE} AS uv",
        "${BASE_IMAGE} AS members",
        "${BASE_IMAGE} AS build",
        "${BASE_IMAGE}",
    ]


def test_dependencies_are_a_layer_keyed_on_the_lock_then_the_members_as_wheels() -> None:
    runs = [rest for kind, rest in STEPS if kind == "RUN"]
    dependencies, members = (run for run in runs if "uv sync" in run)
    binds = re.findall(r"--mount=type=bind,source=([^,]+),", dependencies)
    # What the dependency layer sees of the context: nothing a code change touches.
    assert binds == ["uv.lock", "pyproject.toml"]
    assert "--mount=type=cache,target=/root/.cache/uv" in dependencies
    assert dependencies.endswith(
        'uv sync --frozen --no-install-workspace --no-dev --package "$(cat /opt/package)"'
    )
    assert 'uv sync --frozen --no-dev --no-editable --package "$(cat /opt/package)"' in members
    assert 'python3 docker/service.py launcher "$SERVICE" >/opt/venv/bin/serve' in members
    assert 'python3 docker/service.py setup "$SERVICE" >/opt/venv/bin/setup' in members
    # The whole context goes only into the `members` stage; the build stage copies from it by
    # content the distribution's name (before the dependencies) and the service's members (after).
    whole = [i for i, step in enumerate(STEPS) if step == ("COPY", ". /src")]
    stage_of = [rest for kind, rest in STEPS[: whole[0]] if kind == "FROM"][-1]
    assert len(whole) == 1
    assert stage_of == "${BASE_IMAGE} AS members"
    selecting = next(run for run in runs if "service.py members" in run)
    assert 'python3 docker/service.py package "$SERVICE" >/package' in selecting
    assert 'python3 docker/service.py members "$SERVICE" /members' in selecting
    order = [
        STEPS.index(step)
        for step in [
            ("COPY", "--from=members /package /opt/package"),
            ("RUN", dependencies),
            ("COPY", "--from=members /members /src"),
            ("RUN", members),
        ]
    ]
    assert order == sorted(order)
    env = " ".join(rest for kind, rest in STEPS if kind == "ENV")
    assert "UV_COMPILE_BYTECODE=1" in env
    # docker/ stays out of the images' context except for the one script the recipe runs.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "docker" in ignored
    assert "!docker/service.py" in ignored


def test_the_runtime_stage_is_the_virtualenv_run_by_a_non_root_user() -> None:
    copies = [rest for kind, rest in RUNTIME if kind == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    assert ("USER", "app") in RUNTIME
    health = next(rest for kind, rest in RUNTIME if kind == "HEALTHCHECK")
    assert json.loads(health.split("CMD", 1)[1])[:2] == ["python", "-c"]
    assert json.loads(next(rest for kind, rest in RUNTIME if kind == "CMD")) == ["serve"]
    # ARG SERVICE comes after every RUN of the stage, which so stays one layer for all services.
    last_run = max(i for i, (kind, _) in enumerate(RUNTIME) if kind == "RUN")
    assert RUNTIME.index(("ARG", "SERVICE")) > last_run


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_service_py_names_each_service_distribution_from_the_lock(spec: ServiceSpec) -> None:
    result = service_py("package", spec.name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{distribution(spec)}\n"
    # One naming rule for every service: distribution ticketing-<folder>, package
    # ticketing_<folder, - as _>, its app in that package.
    assert distribution(spec) == spec.distribution
    assert (ROOT / "services" / spec.name / "src" / spec.package / "__init__.py").is_file()
    assert spec.app.startswith(f"{spec.package}.")


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_service_py_launcher_serves_each_service_app(spec: ServiceSpec, tmp_path: Path) -> None:
    result = service_py("launcher", spec.name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#!/bin/sh\n")
    assert result.stdout.endswith(
        f"exec uvicorn --factory {spec.app} --loop uvloop --http {HTTP_PROTOCOL} --no-access-log"
        ' "$@"\n'
    )
    # The script runs: with a stand-in uvicorn on PATH, it passes exactly these arguments on.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uvicorn").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (bin_dir / "uvicorn").chmod(0o755)
    launcher = tmp_path / "serve"
    launcher.write_text(result.stdout)
    launcher.chmod(0o755)
    ran = subprocess.run(
        [str(launcher), "--workers", "2"],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.split() == [
        "--factory",
        spec.app,
        "--loop",
        "uvloop",
        "--http",
        HTTP_PROTOCOL,
        "--no-access-log",
        "--workers",
        "2",
    ]


def run_setup(script: str, tmp_path: Path) -> tuple[int, list[str]]:
    """Runs a `setup` script with a stand-in python on PATH that records its arguments (and
    fails on a job named `fail`): its exit code, and the python commands it ran."""
    (tmp_path / "setup").write_text(script)
    (tmp_path / "setup").chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/ran\n[ "$3" != fail ]\n')
    (bin_dir / "python").chmod(0o755)
    ran = subprocess.run(
        [str(tmp_path / "setup")], env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, check=False
    )
    log = tmp_path / "ran"
    return ran.returncode, log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_service_py_setup_runs_each_declared_setup_job_in_order(
    spec: ServiceSpec, tmp_path: Path
) -> None:
    result = service_py("setup", spec.name)
    assert result.returncode == 0, result.stderr
    assert run_setup(result.stdout, tmp_path) == (
        0,
        [f"-m {spec.package} {job}" for job in spec.setup],
    )


def test_service_py_setup_stops_at_the_first_job_that_fails(tmp_path: Path) -> None:
    (tmp_path / "services" / "x").mkdir(parents=True)
    (tmp_path / "services" / "x" / "pyproject.toml").write_text(
        '[tool.ticketing]\napp = "ticketing_x.main:create_app"\nsetup = ["fail", "after"]\n'
    )
    result = service_py("setup", "x", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    code, ran = run_setup(result.stdout, tmp_path)
    assert code != 0
    assert ran == ["-m ticketing_x fail"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_service_py_copies_only_the_members_the_service_is_made_of(
    spec: ServiceSpec, tmp_path: Path
) -> None:
    result = service_py("members", spec.name, str(tmp_path / "members"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"members of {spec.name}: services/{spec.name} libs/common\n"
    copied = {
        path.relative_to(tmp_path / "members").as_posix()
        for path in (tmp_path / "members").glob("*/*")
    }
    assert copied == {f"services/{spec.name}", "libs/common", "docker/service.py"}
    assert {p.name for p in (tmp_path / "members").iterdir()} == {
        "uv.lock",
        "pyproject.toml",
        "services",
        "libs",
        "docker",
    }
    assert (tmp_path / "members" / "uv.lock").read_text() == (ROOT / "uv.lock").read_text()


def test_service_py_refuses_what_is_not_a_service(tmp_path: Path) -> None:
    unknown = service_py("package", "no-such-service")
    assert unknown.returncode == 1
    assert "no workspace member in services/no-such-service" in unknown.stderr
    missing = service_py("package", "")  # --build-arg SERVICE forgotten
    assert missing.returncode == 2
    assert "--build-arg SERVICE=" in missing.stderr
    # A folder without an app in its [tool.ticketing] table has nothing to serve.
    (tmp_path / "services" / "empty").mkdir(parents=True)
    (tmp_path / "services" / "empty" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    shutil.copy(ROOT / "uv.lock", tmp_path / "uv.lock")
    no_app = service_py("launcher", "empty", cwd=tmp_path)
    assert no_app.returncode == 1
    assert "no `app` in its [tool.ticketing] table" in no_app.stderr
