"""The two distributions as built wheels: the client ships no server, the sandbox the server.

Builds both wheels from the checkout with uv (offline: the build backend comes from uv's
cache, as `scripts/bootstrap` left it) into a temporary directory and reads them as zip
archives. About two seconds: marked slow, and still run by `scripts/test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

from paygentic_client._runtime.version import VERSION

REPO = Path(__file__).resolve().parents[2]
# What the sandbox needs at run time and a user of the client must not be made to install.
SERVER_DEPENDENCIES = {"starlette", "uvicorn", "jsonschema-rs", "pyyaml"}

pytestmark = pytest.mark.slow


def _uv() -> str:
    uv = shutil.which(
        "uv", path=f"{Path.home() / '.local' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    )
    if uv is None:
        pytest.fail("uv is not installed: run scripts/bootstrap")
    return uv


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    out = tmp_path_factory.mktemp("wheels")
    for package in ("paygentic-client", "paygentic-sandbox"):
        subprocess.run(
            [_uv(), "build", "--wheel", "--offline", "--quiet", "--package", package]
            + ["--out-dir", str(out)],
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=120,
        )
    built = {path.name.split("-")[0]: zipfile.ZipFile(path) for path in out.glob("*.whl")}
    assert sorted(built) == ["paygentic_client", "paygentic_sandbox"], sorted(built)
    return built


def _top_level(wheel: zipfile.ZipFile) -> set[str]:
    return {name.split("/")[0] for name in wheel.namelist()}


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (path,) = [entry for entry in wheel.namelist() if entry.endswith(f".dist-info/{name}")]
    return wheel.read(path).decode()


def _metadata(wheel: zipfile.ZipFile) -> Message:
    return Parser().parsestr(_dist_info(wheel, "METADATA"))


def _requirement_names(wheel: zipfile.ZipFile) -> set[str]:
    names = set()
    for requirement in _metadata(wheel).get_all("Requires-Dist") or []:
        name = requirement.split(";")[0].strip()
        for separator in "<>=!~[ (":
            name = name.split(separator)[0]
        names.add(name.lower().replace("_", "-"))
    return names


def test_the_client_wheel_holds_only_the_client_package(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    client = wheels["paygentic_client"]
    assert _top_level(client) == {"paygentic_client", f"paygentic_client-{VERSION}.dist-info"}
    names = client.namelist()
    assert "paygentic_client/py.typed" in names
    assert "paygentic_client/ingest/threaded.py" in names
    assert "paygentic_client/cli/main.py" in names
    assert not [name for name in names if "sandbox" in name or "/tests/" in name]


def test_the_client_installs_only_the_usage_command_and_no_server_dependency(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    client = wheels["paygentic_client"]
    entry_points = _dist_info(client, "entry_points.txt")
    assert "paygentic-usage = paygentic_client.cli.main:main" in entry_points
    assert "paygentic-sandbox" not in entry_points
    assert entry_points.count(" = ") == 1, entry_points
    requirements = _requirement_names(client)
    assert "httpx" in requirements
    assert not requirements & (SERVER_DEPENDENCIES | {"paygentic-sandbox"})


def test_the_sandbox_wheel_holds_the_server_its_spec_and_its_command(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    sandbox = wheels["paygentic_sandbox"]
    version = tomllib.loads((REPO / "sandbox" / "pyproject.toml").read_text())["project"]["version"]
    assert _top_level(sandbox) == {"paygentic_sandbox", f"paygentic_sandbox-{version}.dist-info"}
    names = sandbox.namelist()
    assert {"paygentic_sandbox/app.py", "paygentic_sandbox/__main__.py"} <= set(names)
    spec = sandbox.read("paygentic_sandbox/openapi.yaml")
    assert spec == (REPO / "openapi.yaml").read_bytes()
    entry_points = _dist_info(sandbox, "entry_points.txt")
    assert "paygentic-sandbox = paygentic_sandbox.__main__:main" in entry_points
    assert _requirement_names(sandbox) >= SERVER_DEPENDENCIES
    assert "paygentic-client" not in _requirement_names(sandbox)
