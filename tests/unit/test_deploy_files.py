"""deploy/: every file parses, validates against its schema where one ships offline, and
agrees with the code (settings, worker kinds, search attributes, packages, grants).

Validators, each used only when installed (the test extra should carry them):
PyYAML, yamllint, check-jsonschema (its vendored compose-spec schema), kubernetes-validate
(vendored Kubernetes schemas); `kubectl kustomize` renders the kustomizations when kubectl
is on PATH.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read deploy/")

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
K8S = DEPLOY / "k8s"
FILES = K8S / "base" / "files"
PLACEHOLDER = "REPLACE_ME"
YAML_FILES = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def load_all(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def gridcase_settings() -> set[str]:
    """The environment variables application/config.py reads."""
    source = (ROOT / "application" / "config.py").read_text(encoding="utf-8")
    readers = r"(?:env\.get\(|_int\(env, |_path\(env, |_zone\(env, )"
    return set(re.findall(readers + r'"([A-Z_]+)"', source))


def kustomize_patch_files() -> set[Path]:
    patches: set[Path] = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        for patch in yaml.safe_load(kustomization.read_text(encoding="utf-8")).get("patches", []):
            if "path" in patch:
                patches.add((kustomization.parent / patch["path"]).resolve())
    return patches


def k8s_resources() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every whole Kubernetes object in deploy/k8s (not kustomizations, patches or values)."""
    patches = kustomize_patch_files()
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "kustomization.yaml" or path.resolve() in patches:
            continue
        for doc in load_all(path):
            if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc:
                yield path, doc


def of_kind(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    return [(p, d) for p, d in k8s_resources() if d["kind"] == kind]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def is_gridcase_image(image: str) -> bool:
    return image == "gridcase" or image.rsplit("/", 1)[-1].split(":")[0] == "gridcase"


def config_map_keys() -> dict[str, set[str]]:
    return {d["metadata"]["name"]: set(d.get("data", {})) for _, d in of_kind("ConfigMap")}


def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return doc


def compose_gridcase_services() -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if "GRIDCASE_IMAGE" in str(svc.get("image", ""))
    }


# --- parsing and schemas -----------------------------------------------------------------


def test_deploy_has_the_expected_files() -> None:
    for rel in (
        "README.md",
        "Dockerfile",
        "compose/compose.yaml",
        "compose/.env.example",
        "k8s/temporal-values.yaml",
        "k8s/base/kustomization.yaml",
        "k8s/overlays/example/kustomization.yaml",
    ):
        assert (DEPLOY / rel).is_file(), rel


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    assert load_all(path), f"{path} holds no document"


def test_yamllint_is_clean() -> None:
    pytest.importorskip("yamllint", reason="yamllint not installed")
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig(file=str(DEPLOY / ".yamllint.yaml"))
    problems = [
        f"{path.relative_to(ROOT)}:{p.line}: {p.message}"
        for path in YAML_FILES
        for p in linter.run(path.read_text(encoding="utf-8"), config, str(path))
    ]
    assert problems == []


def test_compose_file_matches_the_compose_spec() -> None:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema not installed")
    done = subprocess.run(
        [
            sys.executable,
            *("-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"),
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _validate_k8s(doc: dict[str, Any], where: str) -> None:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.ValidationError as exc:
        raise AssertionError(f"{where}: {doc['kind']}/{doc['metadata']['name']}: {exc}") from None


def test_kubernetes_manifests_match_the_api_schemas() -> None:
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    resources = list(k8s_resources())
    assert len(resources) >= 15
    for path, doc in resources:
        _validate_k8s(doc, str(path.relative_to(ROOT)))


@pytest.mark.parametrize("kustomization", ["base", "overlays/example"])
def test_kustomizations_render_to_valid_manifests(kustomization: str) -> None:
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (for `kubectl kustomize`) not on PATH")
    done = subprocess.run(
        [kubectl, "kustomize", str(K8S / kustomization)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Job", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    for doc in docs:
        _validate_k8s(doc, f"kustomize {kustomization}")
        assert doc["metadata"].get("namespace", "gridcase") == "gridcase"
    if kustomization == "overlays/example":
        assert {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"} == {
            f"gridcase-db-{role}" for role in ("owner", "supervision", "disposal", "api")
        }


# --- agreement with the code ---------------------------------------------------------------


def test_settings_are_read_from_the_environment_in_config_py() -> None:
    assert {
        "DATABASE_URL",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "GRIDCASE_LOG_LEVEL",
        "GRIDCASE_LOG_FORMAT",
        "GRIDCASE_POLICY",
        "GRIDCASE_CALENDAR",
    } <= gridcase_settings()


def test_deployments_set_only_gridcase_settings() -> None:
    settings = gridcase_settings()
    maps = config_map_keys()
    checked = 0
    for path, obj in of_kind("Deployment") + of_kind("Job"):
        spec = pod_spec(obj)
        for container in spec.get("initContainers", []) + spec["containers"]:
            if not is_gridcase_image(container["image"]):
                continue
            names = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                names |= maps[source["configMapRef"]["name"]]
            assert names <= settings, f"{path.name} {container['name']}: {names - settings}"
            checked += 1
    # patches of the example overlay add env too
    for patch in kustomize_patch_files():
        for doc in load_all(patch):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                names = {e["name"] for e in container.get("env", [])}
                assert names <= settings, f"{patch.name}: {names - settings}"
    assert checked >= 6


def test_compose_gridcase_services_set_only_gridcase_settings() -> None:
    settings = gridcase_settings()
    services = compose_gridcase_services()
    assert len(services) >= 6
    for name, svc in services.items():
        names = set(svc.get("environment", {}))
        assert names <= settings, f"{name}: {names - settings}"


def test_only_the_activity_workers_migrate_job_and_api_get_database_credentials() -> None:
    secrets_by_deployment = {}
    for _, obj in of_kind("Deployment"):
        refs = {
            e["valueFrom"]["secretKeyRef"]["name"]
            for c in pod_spec(obj)["containers"]
            for e in c.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        secrets_by_deployment[obj["metadata"]["name"]] = refs
    assert secrets_by_deployment == {
        "gridcase-worker-cases": set(),
        "gridcase-worker-supervision": {"gridcase-db-supervision"},
        "gridcase-worker-disposal": {"gridcase-db-disposal"},
        "gridcase-api": {"gridcase-db-api"},
    }
    services = compose_gridcase_services()
    assert "DATABASE_URL" not in services["worker-cases"]["environment"]
    for kind in ("supervision", "disposal"):
        url = services[f"worker-{kind}"]["environment"]["DATABASE_URL"]
        assert url.startswith(f"postgresql://gridcase_{kind}:")


def test_worker_kinds_match_workers_run() -> None:
    from workers.run import GRACEFUL_SHUTDOWN, KINDS

    deployed: set[str] = set()
    for _, obj in of_kind("Deployment"):
        spec = pod_spec(obj)
        args = spec["containers"][0].get("args", [])
        if args[:1] == ["worker"]:
            deployed.add(args[1])
        # SIGTERM, then the worker's graceful shutdown, must end before SIGKILL
        assert spec["terminationGracePeriodSeconds"] > GRACEFUL_SHUTDOWN.total_seconds()
    assert deployed == set(KINDS)

    in_compose = {
        svc["command"][1]
        for svc in compose_gridcase_services().values()
        if svc.get("command", [None])[0] == "worker"
    }
    assert in_compose == set(KINDS)
    for svc in compose_gridcase_services().values():
        grace = svc["stop_grace_period"]
        assert grace.endswith("s") and int(grace[:-1]) > GRACEFUL_SHUTDOWN.total_seconds()


def test_search_attributes_equal_the_workflows() -> None:
    from workflows.search_attributes import ALL_KEYS, registration_args

    expected = dict(pair.split("=") for pair in registration_args()[1::2])
    assert len(expected) == len(ALL_KEYS)
    script = (FILES / "temporal-setup.sh").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^search_attribute (\w+) (\w+)$", script, re.MULTILINE))
    assert listed == expected
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    in_readme = dict(re.findall(r"--name (Case\w+) --type (\w+)", readme))
    assert in_readme == expected


def test_dockerfile_installs_every_package_as_a_non_root_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["gridcase"\]$', text, re.MULTILINE)
    user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, re.MULTILINE))
    assert packages <= copied, f"not copied into the image: {packages - copied}"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    assert all(f"!{p}/" in ignore for p in packages)


def test_api_runs_the_same_entry_point_everywhere() -> None:
    (api,) = (d for _, d in of_kind("Deployment") if d["metadata"]["name"] == "gridcase-api")
    container = pod_spec(api)["containers"][0]
    k8s_cmd = container["command"] + container["args"]
    svc = compose()["services"]["api"]
    compose_cmd = svc["entrypoint"] + svc["command"]
    assert k8s_cmd == compose_cmd
    assert k8s_cmd[:3] == ["uvicorn", "--factory", "api.app:create_app_from_env"]
    assert "8000" in k8s_cmd
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"


def test_api_factory_exists_once_the_api_lands() -> None:
    try:
        import api.app as app
    except Exception as exc:  # the API is being written alongside
        pytest.skip(f"api.app does not import: {exc}")
    if not hasattr(app, "create_app_from_env"):
        pytest.skip("api.app has no create_app_from_env yet: confirm the API entry point")


def test_grants_sql_is_what_migrate_applies() -> None:
    from store.access import render_sql

    sql = (FILES / "grants.sql").read_text(encoding="utf-8")
    assert sql == render_sql(), "regenerate: gridcase migrate --print-grants > grants.sql"


def test_grants_name_existing_tables() -> None:
    from store.access import GRANTS, OWNER_ONLY
    from store.models import Base

    for module in ("store.auth_models", "store.reference_models", "store.photos"):
        importlib.import_module(module)  # their tables join Base.metadata

    tables = set(Base.metadata.tables)
    named = {table for grants in GRANTS.values() for table in grants}
    assert {"events", "event_sides", "cases", "notifications", "webhook_subscriptions"} <= named
    assert named <= tables, named - tables
    # Every model's table is granted to the workloads that use it, or is the owner's.
    assert tables <= named | set(OWNER_ONLY), tables - named


def test_the_same_roles_everywhere() -> None:
    """roles.sql's defaults, the ConfigMap, the Secrets and compose name the roles that
    `gridcase migrate` grants to by default (store/access.py)."""
    from store.access import DatabaseRoles

    roles = {**DatabaseRoles().by_workload(), "owner": "gridcase_owner"}
    sql = (FILES / "roles.sql").read_text(encoding="utf-8")
    defaults = dict(re.findall(r"\\set (\w+)_role (\w+) \\endif", sql))
    assert defaults == roles
    (configmap,) = (
        d for _, d in of_kind("ConfigMap") if d["metadata"]["name"] == "gridcase-config"
    )
    for workload in ("supervision", "disposal", "api"):
        assert configmap["data"][f"GRIDCASE_DB_{workload.upper()}_ROLE"] == roles[workload]
    for _, secret in of_kind("Secret"):
        workload = secret["metadata"]["name"].removeprefix("gridcase-db-")
        assert urlsplit(secret["stringData"]["DATABASE_URL"]).username == roles[workload]
    services = compose()["services"]
    for service, workload in (
        ("gridcase-migrate", "owner"),
        ("worker-supervision", "supervision"),
        ("worker-disposal", "disposal"),
        ("api", "api"),
    ):
        url = services[service]["environment"]["DATABASE_URL"]
        assert url.startswith(f"postgresql://{roles[workload]}:"), service


def test_example_policy_is_a_valid_center_policy() -> None:
    from domain.policy import CenterPolicy

    data = json.loads((K8S / "overlays" / "example" / "policy.json").read_text(encoding="utf-8"))
    CenterPolicy.from_dict(data)


def test_temporal_images_are_pinned_to_the_dev_server_minor() -> None:
    tags = re.findall(
        r"temporalio/(?:server|admin-tools):([\w.\-]+)",
        COMPOSE.read_text(encoding="utf-8")
        + "".join(p.read_text(encoding="utf-8") for p in K8S.rglob("*.yaml")),
    )
    values = yaml.safe_load((K8S / "temporal-values.yaml").read_text(encoding="utf-8"))
    tags += [str(values["server"]["image"]["tag"]), str(values["admintools"]["image"]["tag"])]
    assert tags and all(t.startswith("1.32.") for t in tags), tags


# --- no secrets ----------------------------------------------------------------------------


def _assert_placeholder(value: str, where: str) -> None:
    if "://" in value:
        password = urlsplit(value).password
        assert password in (None, PLACEHOLDER), f"{where}: a real password?"
    else:
        assert value in ("", PLACEHOLDER), f"{where}: a real secret?"


def test_secrets_hold_placeholders_only() -> None:
    secrets = of_kind("Secret")
    assert secrets
    for path, secret in secrets:
        values = dict(secret.get("stringData", {}))
        for key, encoded in secret.get("data", {}).items():
            values[key] = base64.b64decode(encoded).decode()
        for key, value in values.items():
            _assert_placeholder(value, f"{path.name} {secret['metadata']['name']} {key}")


def test_env_example_and_compose_hold_no_secret() -> None:
    for line in (DEPLOY / "compose" / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if "PASSWORD" in key or "SECRET" in key:
            assert value == PLACEHOLDER, key
    for name, svc in compose()["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "PWD", "DATABASE_URL")):
                value = str(value)
                assert value.startswith("${") or re.search(r":\$\{\w+\}@", value), (name, key)
