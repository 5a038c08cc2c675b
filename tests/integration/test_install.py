"""The install manifests against a real API server: they apply, and the ServiceAccount can do exactly what
the operator's code needs (the needs are computed from the code by tests/unit/test_rbac.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml
from ecs_operator import kube
from ecs_operator.account import account_namespace

from tests.unit.test_rbac import account_resources, needed

pytest_plugins = ["tests.integration.rbac", "tests.integration.operator_fixtures"]
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
Kubectl = Callable[..., CompletedProcess[str]]
# What every authenticated user may do (system:basic-user and friends), on top of the operator's role.
DEFAULT_AUTHENTICATED = {
    ("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
    ("authorization.k8s.io", "selfsubjectrulesreviews", "create"),
    ("authentication.k8s.io", "selfsubjectreviews", "create"),
}


def _render(kubectl: Kubectl, overlay: str) -> list[dict[str, Any]]:
    rendered = kubectl("kustomize", str(ROOT / "manifests" / overlay)).stdout
    return [d for d in yaml.safe_load_all(rendered) if d]


def _server_dry_run(kubectl: Kubectl, objects: list[dict[str, Any]]) -> list[str]:
    result = kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "--force-conflicts",
        "--field-manager=ecs-operator-install-test",
        "-f",
        "-",
        input=yaml.safe_dump_all(objects),
    )
    return [line for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("overlay", ["default", "kind", "with-api", "with-console", "local"])
def test_install_applies_server_side_dry_run(kubectl: Kubectl, operator_identity: str, overlay: str) -> None:
    # A server-side dry run cannot place objects in a namespace that does not exist yet; operator_identity
    # has created ecs-operator-system for real, as the first step of a real install would.
    objects = _render(kubectl, overlay)
    kinds = sorted(o["kind"] for o in objects)
    generated = {
        yaml.safe_load(path.read_text())["metadata"]["name"] for path in (ROOT / "crds").glob("*.yaml")
    }
    assert {o["metadata"]["name"] for o in objects if o["kind"] == "CustomResourceDefinition"} == generated
    assert {
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
    } <= set(kinds)
    lines = _server_dry_run(kubectl, objects)
    assert len(lines) == len(objects), lines
    assert all(line.endswith("serverside-applied (server dry run)") for line in lines), lines


def test_kind_overlay_runs_the_locally_loaded_image(kubectl: Kubectl) -> None:
    (deployment,) = [o for o in _render(kubectl, "kind") if o["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert (container["image"], container["imagePullPolicy"]) == ("ecs-operator:dev", "IfNotPresent")


def test_service_account_may_do_everything_the_code_needs(
    ecs_crds: Any, operator_identity: str, operator_can_i: Callable[..., bool]
) -> None:
    refused = []
    account = account_resources()  # granted in the account namespace only
    for group, resource, verb in sorted(needed()):
        plural, _, subresource = resource.partition("/")
        namespace = account_namespace() if (group, plural) in account else ""
        if not operator_can_i(verb, plural, group, subresource, namespace):
            refused.append((group, resource, verb))
    assert not refused, f"{operator_identity} is refused what the operator needs: {refused}"


def _effective_rules(kubeconfig: Path, namespace: str) -> set[tuple[str, str, str]]:
    """The ServiceAccount's own view of its permissions in `namespace` (SelfSubjectRulesReview)."""
    from kubernetes import client, config

    with config.new_client_from_config(config_file=str(kubeconfig)) as api_client:
        review = client.AuthorizationV1Api(api_client).create_self_subject_rules_review(
            {"spec": {"namespace": namespace}}
        )
    assert not review.status.incomplete, review.status.evaluation_error
    return {
        (group, resource, verb)
        for rule in review.status.resource_rules
        for group in rule.api_groups
        for resource in rule.resources
        for verb in rule.verbs
    }


def test_service_account_may_do_nothing_else(operator_kubeconfig: Path, namespace: str) -> None:
    rules = _effective_rules(operator_kubeconfig, namespace)
    assert not any("*" in part for rule in rules for part in rule), sorted(rules)
    extra = rules - needed() - DEFAULT_AUTHENTICATED
    assert not extra, f"the ServiceAccount may do more than the operator needs: {sorted(extra)}"
    elsewhere = {
        (group, resource, verb) for group, resource, verb in rules if (group, resource) in account_resources()
    }
    assert not elsewhere, f"granted outside the account namespace: {sorted(elsewhere)}"
    in_account = _effective_rules(operator_kubeconfig, account_namespace())
    extra = in_account - needed() - DEFAULT_AUTHENTICATED
    assert not extra, f"the ServiceAccount may do more than the operator needs there: {sorted(extra)}"


def test_in_its_own_namespace_it_may_also_hold_its_lease_and_nothing_more(operator_kubeconfig: Path) -> None:
    from tests.integration.rbac import NAMESPACE

    rules = _effective_rules(operator_kubeconfig, NAMESPACE)
    election = {("coordination.k8s.io", "leases", verb) for verb in kube.ELECTION_VERBS}
    assert election <= rules
    extra = rules - needed() - DEFAULT_AUTHENTICATED - election
    assert not extra, (
        f"the ServiceAccount may do more than the operator needs in {NAMESPACE}: {sorted(extra)}"
    )


def test_operator_client_applies_children_as_the_service_account(
    operator_kubeconfig: Path, namespace: str
) -> None:
    """The operator's own client, authenticated by the TokenRequest token: creating a child by server-side
    apply works (authorized as create), reading Secrets does not."""
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    with config.new_client_from_config(config_file=str(operator_kubeconfig)) as api_client:
        operator = kube.Kube(api_client)
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "web",
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "ecs-operator"},
            },
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]},
        }
        applied = operator.apply(service)
        assert applied["metadata"]["managedFields"][0]["manager"] == "ecs-operator"
        assert "web" in [s["metadata"]["name"] for s in operator.list("Service", namespace)]
        assert operator.delete("Service", "web", namespace)
        with pytest.raises(ApiException) as refused:
            client.CoreV1Api(api_client).list_namespaced_secret(namespace)
        assert refused.value.status == 403


def test_token_kubeconfig_authenticates_as_the_service_account(
    operator_kubeconfig: Path, operator_identity: str
) -> None:
    from kubernetes import client, config

    with config.new_client_from_config(config_file=str(operator_kubeconfig)) as api_client:
        review = client.AuthenticationV1Api(api_client).create_self_subject_review({})
    user = review.status.user_info
    assert user.username == operator_identity
    assert "system:serviceaccounts:ecs-operator-system" in user.groups


def test_operator_runs_as_the_service_account(
    ecs_operator: Any, ecs_cluster: Any, operator_kubeconfig: Path, operator_identity: str
) -> None:
    """The session's operator (operator_fixtures), authenticated only by the ServiceAccount's token,
    reconciles a cluster, a service and a task to Ready without one RBAC refusal in its log."""
    from tests.integration.operator_helpers import run_task, service, task_definition

    if ecs_operator.kubeconfig != str(operator_kubeconfig):
        pytest.skip("ECS_OPERATOR_TESTS_AS_ADMIN=1: this run's operator uses the admin kubeconfig")
    # Only this test's lines: the session's operator may have seen other tests restart the API server, whose
    # RBAC cache answers "not found" for a moment after it starts listening again.
    log_before = len(ecs_operator.log_path.read_text(errors="replace").splitlines())
    web = ecs_cluster.family("web")
    ecs_cluster.apply(task_definition(web), service("web", web, desired=2), run_task("once", web))
    ecs_cluster.wait_condition("ecsservice", "web", "Ready", timeout=120)
    ecs_cluster.wait_condition("ecstask", "once", "Ready", timeout=120)
    # RBAC refusals name the user ("User \"system:serviceaccount:...\" cannot create resource ...").
    refusals = [
        line
        for line in ecs_operator.log_path.read_text(errors="replace").splitlines()[log_before:]
        if operator_identity in line and " cannot " in line
    ]
    assert not refusals, "\n".join(refusals)


@pytest.mark.parametrize("component", ["operator", "api", "console"])
def test_pods_meet_the_restricted_pod_security_standard(
    kubectl: Kubectl, operator_identity: str, component: str
) -> None:
    """ecs-operator-system enforces `restricted`; the API server's PodSecurity admission rejects a Pod (not a
    Deployment) that breaks it, so dry-run each Deployment's pod template as a Pod there."""
    deployment = yaml.safe_load((ROOT / "manifests" / component / "deployment.yaml").read_text())
    template = deployment["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"ecs-{component}-pss-check",
            "namespace": "ecs-operator-system",
            **template["metadata"],
        },
        "spec": template["spec"],
    }
    labels = kubectl("get", "namespace", "ecs-operator-system", "-o", "json").stdout
    assert '"pod-security.kubernetes.io/enforce": "restricted"' in labels
    # The Pod names its ServiceAccount, which must exist (whichever tests ran before this one).
    kubectl("apply", "--server-side", "-f", str(ROOT / "manifests" / component / "serviceaccount.yaml"))
    result = kubectl(
        "apply", "--server-side", "--dry-run=server", "-f", "-", input=yaml.safe_dump(pod), check=False
    )
    assert result.returncode == 0 and "violate" not in result.stderr, result.stderr
    (container,) = pod["spec"]["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and security["capabilities"]["drop"] == ["ALL"]
    assert deployment["spec"]["replicas"] == 2, "no single point of failure"
    if component == "operator":
        assert deployment["spec"]["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        }
        assert "--leader-elect" in container["args"]


def test_probes_and_metrics_use_the_operator_ports() -> None:
    from ecs_operator.run import DEFAULT_LIVENESS_PORT, DEFAULT_METRICS_PORT

    deployment = yaml.safe_load((ROOT / "manifests" / "operator" / "deployment.yaml").read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": DEFAULT_METRICS_PORT, "healthz": DEFAULT_LIVENESS_PORT}
    assert f"--metrics-port={DEFAULT_METRICS_PORT}" in container["args"]
    assert f"--liveness-port={DEFAULT_LIVENESS_PORT}" in container["args"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    service = yaml.safe_load((ROOT / "manifests" / "operator" / "service.yaml").read_text())
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
