"""The image tag is the commit, and only a clean commit; build commands are templates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ticketing_infra.images import Builder, ImageError, _run, git_commit


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_tag_is_the_commit_of_a_clean_tree_only(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    sha = git(tmp_path, "rev-parse", "HEAD")
    assert git_commit(tmp_path) == sha
    (tmp_path / "a.txt").write_text("2")  # the image would not be that commit
    with pytest.raises(ImageError, match="uncommitted changes"):
        git_commit(tmp_path)
    assert git_commit(tmp_path, allow_dirty=True) == sha


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="git rev-parse HEAD"):
        git_commit(tmp_path)


def test_tool_templates() -> None:
    buildah = Builder.for_tool("buildah")
    assert (
        buildah.build
        == "buildah bud -f {dockerfile} --build-arg SERVICE={service} -t {image} {context}"
    )
    assert buildah.push == "buildah push {image}"
    assert buildah.login == "buildah login --username AWS --password-stdin {registry}"


def test_a_failing_command_reports_its_last_lines(tmp_path: Path) -> None:
    script = tmp_path / "build.py"
    script.write_text(
        "import sys\nprint('\\n'.join(f'line {i}' for i in range(50)))\nsys.exit(3)\n"
    )
    with pytest.raises(ImageError) as error:
        _run(f"{sys.executable} {script} {{image}}", image="repo:tag")
    message = str(error.value)
    assert "repo:tag` exited 3" in message
    assert "line 49" in message
    assert "line 29" not in message
