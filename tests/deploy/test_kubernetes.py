"""deploy/kubernetes/ keeps its promises, read without a cluster.

`make lint-deploy` validates every manifest against the Kubernetes schemas
(kubernetes-validate, offline); these tests check what the schemas cannot: the same
invariants the Compose topology test checks, for Kubernetes. No cluster runs here, so that
the pods start, the probes pass and the NetworkPolicies are enforced is not shown by them
(docs/deploy.md says how to try it on kind or a managed cluster).
"""

import ipaddress
import re
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from devtools.compose import service_environment
from devtools.paths import REPO

MANIFESTS = REPO / "deploy" / "kubernetes"
PINNED_OR_RELEASED = re.compile(
    r"[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}|ghcr\.io/example/picus(-pgbouncer)?:[\w.]+"
)
SECRET_WORD = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY", re.IGNORECASE)
APP = {"app.kubernetes.io/name": "picus", "app.kubernetes.io/part-of": "picus"}
PGBOUNCER = {"app.kubernetes.io/name": "pgbouncer", "app.kubernetes.io/part-of": "picus"}
POSTGRES = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/part-of": "picus"}
MIGRATE = {"app.kubernetes.io/name": "picus-migrate", "app.kubernetes.io/part-of": "picus"}


def _documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


DOCUMENTS = _documents()


def _one(kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in DOCUMENTS if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def _pod_specs() -> dict[str, dict[str, Any]]:
    """Every workload's pod template spec, by workload name."""
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]
        for doc in DOCUMENTS
        if doc["kind"] in {"Deployment", "StatefulSet", "Job"}
    }


def test_kustomization_lists_every_manifest_and_one_namespace() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    files = {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == "picus"
    assert {doc["metadata"].get("namespace", "picus") for doc in DOCUMENTS} == {"picus"}
    namespace = _one("Namespace", "picus")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_kind_the_issue_asks_for_is_there() -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in DOCUMENTS}
    assert {
        ("Deployment", "picus"),
        ("Service", "picus"),
        ("HorizontalPodAutoscaler", "picus"),
        ("PodDisruptionBudget", "picus"),
        ("Job", "picus-db-upgrade"),
        ("Deployment", "pgbouncer"),
        ("Service", "pgbouncer"),
        ("ConfigMap", "picus-config"),
        ("ConfigMap", "pgbouncer-config"),
        ("Ingress", "picus"),
        ("NetworkPolicy", "db"),
    } <= kinds
    assert not [kind for kind, _ in kinds if kind == "Secret"], "Secrets are made, not committed"


@pytest.mark.parametrize("workload", sorted(_pod_specs()))
def test_every_pod_is_non_root_read_only_unprivileged_and_bounded(workload: str) -> None:
    spec = _pod_specs()[workload]
    assert spec["automountServiceAccountToken"] is False
    pod_security = spec["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] > 0
    assert pod_security["seccompProfile"]["type"] == "RuntimeDefault"
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert "add" not in security["capabilities"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), bound
        assert PINNED_OR_RELEASED.fullmatch(container["image"]), container["image"]
    for volume in spec.get("volumes", []):
        if "emptyDir" in volume:
            assert volume["emptyDir"]["sizeLimit"], volume["name"]


def test_the_app_probes_health_and_readiness_and_outlives_its_graceful_stop() -> None:
    deployment = _one("Deployment", "picus")
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    config = _one("ConfigMap", "picus-config")["data"]
    graceful = float(config["PICUS_GRACEFUL_TIMEOUT"])
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > graceful + pre_stop
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert deployment["spec"]["template"]["metadata"]["labels"].items() >= APP.items()
    assert deployment["spec"]["selector"]["matchLabels"] == APP


def test_the_app_spreads_across_nodes_and_scales_without_losing_availability() -> None:
    spec = _one("Deployment", "picus")["spec"]["template"]["spec"]
    keys = {c["topologyKey"]: c for c in spec["topologySpreadConstraints"]}
    assert keys["kubernetes.io/hostname"]["labelSelector"]["matchLabels"] == APP
    hpa = _one("HorizontalPodAutoscaler", "picus")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "picus"}
    assert hpa["minReplicas"] >= 2
    assert hpa["maxReplicas"] > hpa["minReplicas"]
    pdb = _one("PodDisruptionBudget", "picus")["spec"]
    assert pdb["selector"]["matchLabels"] == APP
    assert pdb["maxUnavailable"] == 1
    assert _one("Service", "picus")["spec"]["selector"] == APP


def test_configuration_comes_from_a_configmap_and_secrets_only_from_secrets() -> None:
    config = _one("ConfigMap", "picus-config")["data"]
    for name, value in config.items():
        if SECRET_WORD.search(name) and value.lower() not in {"true", "false"}:
            assert name.endswith("_FILE"), name
            assert value.startswith("/run/secrets/"), name
        if "URL" in name:
            assert make_url(value).password is None, name
    for workload, spec in _pod_specs().items():
        for container in spec["containers"]:
            for variable in container.get("env", []):
                if "value" in variable:
                    assert not SECRET_WORD.search(variable["name"]) or variable["name"].endswith(
                        "_FILE"
                    ), (workload, variable)
                    assert "://" not in variable["value"] or "@" not in variable["value"]
        secret_volumes = [v for v in spec.get("volumes", []) if "secret" in v or "projected" in v]
        assert secret_volumes, workload  # every workload needs the password, as a file
    app_volumes = _pod_specs()["picus"]["volumes"]
    (projected,) = [v["projected"] for v in app_volumes if "projected" in v]
    names = {source["secret"]["name"] for source in projected["sources"]}
    assert names == {"picus-db", "picus-api-keys"}
    assert config["PICUS_REQUIRE_API_KEYS"] == "true"


def test_the_app_settings_match_the_compose_stack() -> None:
    config = _one("ConfigMap", "picus-config")["data"]
    compose = service_environment("app")
    for name in ("PICUS_DB_STATEMENT_CACHE_SIZE", "PICUS_REQUIRE_API_KEYS", "PICUS_MAX_BODY_BYTES"):
        assert config[name] == compose[name], name
    for name in ("DATABASE_URL", "PICUS_LISTEN_DATABASE_URL"):
        assert make_url(config[name]).host == make_url(compose[name]).host, name
        assert make_url(config[name]).port == make_url(compose[name]).port, name
    ipaddress.ip_network(config["FORWARDED_ALLOW_IPS"])  # a network, never "*"


def test_pgbouncer_runs_the_shipped_ini() -> None:
    ini = _one("ConfigMap", "pgbouncer-config")["data"]["pgbouncer.ini"]
    assert ini == (REPO / "deploy" / "pgbouncer" / "pgbouncer.ini").read_text(encoding="utf-8")
    spec = _one("Deployment", "pgbouncer")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/pgbouncer/pgbouncer.ini"]["subPath"] == "pgbouncer.ini"
    assert "/run/pgbouncer" in mounts  # where the entrypoint writes the auth file
    assert _one("Service", "pgbouncer")["spec"]["ports"][0]["port"] == 6432
    assert _one("PodDisruptionBudget", "pgbouncer")["spec"]["selector"]["matchLabels"] == PGBOUNCER


def test_the_migration_job_runs_picus_db_upgrade_against_postgresql_itself() -> None:
    job = _one("Job", "picus-db-upgrade")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["picus", "db", "upgrade"]
    (database_url,) = [v for v in container["env"] if v["name"] == "DATABASE_URL"]
    key = database_url["valueFrom"]["configMapKeyRef"]["key"]
    config = _one("ConfigMap", "picus-config")["data"]
    assert (make_url(config[key]).host, make_url(config[key]).port) == ("db", 5432)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["template"]["metadata"]["labels"].items() >= MIGRATE.items()


def _allowed_from(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [peer for rule in policy["spec"].get("ingress", []) for peer in rule["from"]]


def test_network_policies_deny_by_default_and_open_only_the_chain() -> None:
    default = _one("NetworkPolicy", "default-deny")["spec"]
    assert default["podSelector"] == {}
    assert set(default["policyTypes"]) == {"Ingress", "Egress"}
    db = _one("NetworkPolicy", "db")
    assert db["spec"]["podSelector"]["matchLabels"] == POSTGRES
    sources = [peer["podSelector"]["matchLabels"] for peer in _allowed_from(db)]
    assert sorted(sources, key=str) == sorted([PGBOUNCER, APP, MIGRATE], key=str)
    assert all(set(peer) == {"podSelector"} for peer in _allowed_from(db))  # no other namespace
    pgbouncer = _one("NetworkPolicy", "pgbouncer")
    assert [peer["podSelector"]["matchLabels"] for peer in _allowed_from(pgbouncer)] == [APP]
    app = _one("NetworkPolicy", "picus")
    (peer,) = _allowed_from(app)
    assert set(peer) == {"namespaceSelector"}  # the ingress controller's namespace only
    assert _one("NetworkPolicy", "picus-migrate")["spec"]["ingress"] == []


def test_the_ingress_publishes_the_api_paths_only_over_tls() -> None:
    ingress = _one("Ingress", "picus")["spec"]
    (rule,) = ingress["rules"]
    paths = rule["http"]["paths"]
    assert [(p["path"], p["pathType"]) for p in paths] == [("/picus/", "Prefix")]
    assert paths[0]["backend"]["service"]["name"] == "picus"
    (tls,) = ingress["tls"]
    assert rule["host"] in tls["hosts"]
    annotations = _one("Ingress", "picus")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-max-temp-file-size"] == "0"


def test_the_database_keeps_its_data_and_runs_as_postgres() -> None:
    db = _one("StatefulSet", "db")
    assert db["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    spec = db["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsUser"] == 70
    (container,) = spec["containers"]
    environment = {v["name"]: v.get("value") for v in container["env"]}
    assert environment["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "POSTGRES_PASSWORD" not in environment
    assert _one("Service", "db")["spec"]["selector"] == POSTGRES


def test_manifests_hold_no_literal_password() -> None:
    for path in MANIFESTS.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), path.name
        assert not re.search(r"^\s*POSTGRES_PASSWORD:", text, re.MULTILINE), path.name
