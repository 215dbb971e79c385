"""scripts/fuzz refuses to start when the token is not accepted, instead of a green run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from paygentic_sandbox.process import SandboxProcess
from support.sandbox_fixture import MERCHANT_ID, OTHER_MERCHANT_ID, TOKEN

ROOT = Path(__file__).resolve().parents[2]
WRONG_TOKEN = "tok_expired_0123456789"


def fuzz_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """scripts/fuzz.py as a module (registered while the test runs: dataclasses need that)."""
    spec = importlib.util.spec_from_file_location("fuzz_script", ROOT / "scripts" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_a_wrong_token_fails_the_run_before_fuzzing(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    done = subprocess.run(
        [str(ROOT / "scripts" / "fuzz"), "--url", sandbox.url, "--token", WRONG_TOKEN]
        + ["--merchant-id", MERCHANT_ID, "--report-dir", str(reports)],
        env={**os.environ, "PAYGENTIC_BOOTSTRAPPED": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Fuzzing not started: authentication failed" in done.stderr
    assert "answered 401, the token is not valid" in done.stderr
    assert "Fuzzing passed" not in done.stdout
    assert not (reports / "junit.xml").exists()  # schemathesis never ran
    assert WRONG_TOKEN not in done.stdout + done.stderr


def test_the_probe_accepts_a_right_token_and_names_a_wrong_merchant(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    fuzz = fuzz_module(monkeypatch)

    assert fuzz.probe_failure(fuzz.Target(sandbox.url, TOKEN, MERCHANT_ID)) is None
    wrong_merchant = fuzz.probe_failure(fuzz.Target(sandbox.url, TOKEN, OTHER_MERCHANT_ID))
    assert "answered 403" in wrong_merchant and OTHER_MERCHANT_ID in wrong_merchant
    assert "got no answer" in fuzz.probe_failure(fuzz.Target("http://127.0.0.1:9", TOKEN, "x"))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_deployment_that_refuses_a_documented_parameter_fails_the_fuzz(tmp_path: Path) -> None:
    """The drill "new query parameter": the spec documents `billableMetricId` on the list and
    the sandbox (following that spec, with no rule for it) refuses it. That exits non-zero
    with the case, not 0 with a warning."""
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    document["paths"]["/v0/usage"]["get"]["parameters"].append(
        {
            "name": "billableMetricId",
            "in": "query",
            "schema": {"type": "string", "minLength": 1, "description": "Only this metric."},
        }
    )
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))

    done = subprocess.run(
        [str(ROOT / "scripts" / "fuzz"), "--quick", "--spec", str(spec)]
        + ["--operation", "listUsageEvents", "--report-dir", str(tmp_path / "reports")],
        env={**os.environ, "PAYGENTIC_BOOTSTRAPPED": "1"},
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Valid data should have been accepted" in done.stdout
    assert "The query parameter billableMetricId is declared by the API's spec" in done.stdout
    assert "billableMetricId=" in done.stdout  # the case, to reproduce it
    assert "Fuzzing FAILED (exit status 1)" in done.stdout
    assert "Missing Open API links" not in done.stdout
