"""The Kubernetes manifests and compose.yaml, checked offline: every resource against the
Kubernetes schemas (kubernetes-validate, strict), and the settings the parts must agree on
(drain bound and grace periods, the autoscaled metric, the proxy's upstream, no literal secrets).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from dhanvantri.realtime.metrics import ServerMetrics
from dhanvantri.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes release still commonly run, and the newest the validator knows.
VERSIONS = ("1.28.0", kubernetes_validate.utils.latest_version())


def resources() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def resource(kind: str, name: str) -> dict[str, Any]:
    return next(doc for _, doc in resources()
                if doc["kind"] == kind and doc["metadata"]["name"] == name)


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in workload["spec"]["template"]["spec"]["containers"]
                if c["name"] == name)


def config() -> dict[str, str]:
    return dict(resource("ConfigMap", "dhanvantri-config")["data"])


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_fits_the_kubernetes_schema(version: str) -> None:
    kinds = set()
    for name, doc in resources():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']}: {exc.message}")
        kinds.add(doc["kind"])
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
            "ConfigMap", "Ingress", "Job"} <= kinds


def test_the_validator_rejects_a_misspelt_field() -> None:
    deployment = resource("Deployment", "dhanvantri")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_a_stopping_pod_has_time_to_drain() -> None:
    pod = resource("Deployment", "dhanvantri")["spec"]["template"]["spec"]
    drain = float(config()["DHANVANTRI_DRAIN_SECONDS"])
    pause = int(container({"spec": {"template": {"spec": pod}}}, "server")
                ["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > drain + pause
    assert Settings(drain_seconds=drain).drain_seconds == drain  # a value the server accepts


def test_probes_read_healthz_and_a_draining_pod_is_not_restarted() -> None:
    server = container(resource("Deployment", "dhanvantri"), "server")
    assert server["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert server["startupProbe"]["httpGet"]["path"] == "/healthz"
    # Liveness accepts any answer from /healthz (503 while draining): an httpGet would not.
    liveness = server["livenessProbe"]
    assert "httpGet" not in liveness
    script = liveness["exec"]["command"][-1]
    assert "/healthz" in script and "HTTPError" in script


def test_the_pods_run_as_the_images_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.findall(r"^USER (\d+)", dockerfile, re.MULTILINE)[-1]
    for name in ("dhanvantri", "dhanvantri-proxy"):
        pod = resource("Deployment", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for each in pod["containers"] + pod.get("initContainers", []):
            assert each["securityContext"]["allowPrivilegeEscalation"] is False
            assert each["securityContext"]["capabilities"]["drop"] == ["ALL"]
    server_pod = resource("Deployment", "dhanvantri")["spec"]["template"]["spec"]
    assert str(server_pod["securityContext"]["runAsUser"]) == user


def test_the_autoscaler_reads_the_gauge_the_server_exports() -> None:
    hpa = resource("HorizontalPodAutoscaler", "dhanvantri")
    (metric,) = hpa["spec"]["metrics"]
    name = metric["pods"]["metric"]["name"]
    exported = ServerMetrics().render().decode()
    assert f"# TYPE {name} gauge" in exported
    assert hpa["spec"]["scaleTargetRef"]["name"] == "dhanvantri"
    slots = re.search(r"server-template \S+ 1-(\d+)",
                      (ROOT / "deploy" / "haproxy.cfg").read_text())
    assert slots and hpa["spec"]["maxReplicas"] <= int(slots.group(1))


def test_the_proxy_resolves_every_server_pod_loading_and_draining_ones_too() -> None:
    service = resource("Service", "dhanvantri-servers")
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"]
    env = {e["name"]: e.get("value") for e in
           container(resource("Deployment", "dhanvantri-proxy"), "haproxy")["env"]}
    namespace = service["metadata"]["namespace"]
    assert env["DHANVANTRI_UPSTREAM"] == \
        f"dhanvantri-servers.{namespace}.svc.cluster.local:8080"
    labels = resource("Deployment", "dhanvantri")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = resource("PodDisruptionBudget", "dhanvantri")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_settings_in_the_config_map_are_real_settings() -> None:
    fields = {f"DHANVANTRI_{name.upper()}" for name in Settings.model_fields}
    assert set(config()) <= fields


def test_secrets_are_references_never_values() -> None:
    server = container(resource("Deployment", "dhanvantri"), "server")
    secret_names = {"DHANVANTRI_DATABASE_URL", "DHANVANTRI_REDIS_URL", "DHANVANTRI_JWT_SECRET",
                    "DHANVANTRI_VAULT_KEY", "DHANVANTRI_DATA_KEY", "DHANVANTRI_AUDIT_KEY"}
    env = {e["name"]: e for e in server["env"]}
    for name in secret_names:
        assert "secretKeyRef" in env[name]["valueFrom"], name
    assert not [doc for _, doc in resources() if doc["kind"] == "Secret"]


# ------------------------------------------------------------------ compose.yaml
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_two_servers_on_one_image_with_redis_postgres_and_the_proxy() -> None:
    services = compose()["services"]
    servers = [s for name, s in services.items() if name.startswith("server-")]
    assert len(servers) == 2
    assert {s["image"] for s in servers} == {"dhanvantri:local"}
    for server in servers:
        env = server["environment"]
        assert env["DHANVANTRI_BUS"] == "redis"
        assert env["DHANVANTRI_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in env["DHANVANTRI_DATABASE_URL"]
        assert "@redis:6379/" in env["DHANVANTRI_REDIS_URL"]
        assert "server" in server["networks"]["default"]["aliases"]
        assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {"redis", "postgres", "proxy", "migrate"} <= set(services)
    proxy = services["proxy"]
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in proxy["volumes"]
    assert proxy["environment"]["DHANVANTRI_UPSTREAM"] == "server:8080"


def test_compose_waits_for_the_drain_before_killing() -> None:
    server = compose()["services"]["server-1"]
    minutes = re.fullmatch(r"(\d+)m", server["stop_grace_period"])
    drain = re.search(r"DHANVANTRI_DRAIN_SECONDS:-(\d+)",
                      server["environment"]["DHANVANTRI_DRAIN_SECONDS"])
    assert minutes and drain and int(minutes.group(1)) * 60 > int(drain.group(1))


def test_compose_takes_every_secret_from_the_environment() -> None:
    required = re.compile(r"\$\{[A-Z_]+:\?[^}]+\}")  # ${NAME:?message}: no default value
    spec = compose()
    checked = 0
    for service in spec["services"].values():
        for name, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|SECRET|_KEY$|REDISCLI_AUTH", name):
                assert required.fullmatch(value), f"{name}: {value}"
                checked += 1
            elif name.endswith("_URL") and "@" in value:  # the password inside a URL
                assert re.search(r"://[^@]*:" + required.pattern + "@", value), name
                checked += 1
    assert checked >= 8
    redis = spec["services"]["redis"]["command"]
    assert required.fullmatch(redis[redis.index("--requirepass") + 1])
    secret_file = spec["secrets"]["prescription_signing_key"]["file"]
    assert required.fullmatch(secret_file)
