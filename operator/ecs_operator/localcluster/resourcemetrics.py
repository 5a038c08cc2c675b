"""The resource metrics API (`metrics.k8s.io`, what HPAs and `kubectl top` read) on the local cluster.

metrics-server runs as a process beside the control plane, on loopback. The API server reaches it through an
APIService whose Service is of type ExternalName (`127.0.0.1`): the aggregator dials an ExternalName Service's
name directly, whereas a ClusterIP Service would need kube-proxy on this host and Endpoints refuse loopback
addresses. Its serving certificate is the admin certificate, which names `metrics-server.kube-system.svc`, so
the APIService verifies it against the cluster's CA.

metrics-server scrapes each Node's kubelet at its InternalIP and status port: the real node's kubelet measures
its containers; kwok serves simulated measurements for its Nodes (the `Metric` and `ClusterResourceUsage`
documents below, read from kwok's `--config`), at the path the Node's annotation names. A kwok Pod uses what
its annotations `kwok.x-k8s.io/usage-cpu` / `usage-memory` say (kwok reads them at every scrape), else 1m of
CPU and 1Mi of memory per container.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SERVICE_NAME = "metrics-server"
SERVICE_NAMESPACE = "kube-system"
SERVER_NAME = f"{SERVICE_NAME}.{SERVICE_NAMESPACE}.svc"
API_SERVICE_NAME = "v1beta1.metrics.k8s.io"
# Where metrics-server reads a kwok Node's measurements instead of the kubelet's /metrics/resource.
METRICS_PATH_ANNOTATION = "metrics.k8s.io/resource-metrics-path"
USAGE_CPU_ANNOTATION = "kwok.x-k8s.io/usage-cpu"
USAGE_MEMORY_ANNOTATION = "kwok.x-k8s.io/usage-memory"
# How often metrics-server scrapes; the HPA controller reads every 15 s too.
RESOLUTION = "15s"


def kwok_metrics_path(node_name: str) -> str:
    return f"/metrics/nodes/{node_name}/metrics/resource"


# Each series' labels, as CEL expressions over the Pod and container kwok evaluates them for.
LABELS = {
    "container": {
        "container": "container.name",
        "namespace": "pod.metadata.namespace",
        "pod": "pod.metadata.name",
    },
    "pod": {"namespace": "pod.metadata.namespace", "pod": "pod.metadata.name"},
    "node": {},
}


def _series(name: str, dimension: str, kind: str, value: str) -> dict[str, Any]:
    series: dict[str, Any] = {
        "name": name,
        "dimension": dimension,
        "kind": kind,
        "help": name,
        "value": value,
    }
    if LABELS[dimension]:
        series["labels"] = [{"name": label, "value": cel} for label, cel in LABELS[dimension].items()]
    return series


# The series metrics-server reads from a kubelet's /metrics/resource, computed by kwok from the usage below.
KWOK_METRIC = {
    "apiVersion": "kwok.x-k8s.io/v1alpha1",
    "kind": "Metric",
    "metadata": {"name": "metrics-resource"},
    "spec": {
        "path": kwok_metrics_path("{nodeName}"),
        "metrics": [
            _series("scrape_error", "node", "gauge", "0"),
            _series("container_start_time_seconds", "container", "gauge", "pod.SinceSecond()"),
            _series("container_cpu_usage_seconds_total", "container", "counter",
                    'pod.CumulativeUsage("cpu", container.name)'),
            _series("container_memory_working_set_bytes", "container", "gauge",
                    'pod.Usage("memory", container.name)'),
            _series("pod_cpu_usage_seconds_total", "pod", "counter", 'pod.CumulativeUsage("cpu")'),
            _series("pod_memory_working_set_bytes", "pod", "gauge", 'pod.Usage("memory")'),
            _series("node_cpu_usage_seconds_total", "node", "counter", 'node.CumulativeUsage("cpu")'),
            _series("node_memory_working_set_bytes", "node", "gauge", 'node.Usage("memory")'),
        ],
    },
}  # fmt: skip


def _usage(annotation: str, default: str) -> dict[str, str]:
    return {
        "expression": f'"{annotation}" in pod.metadata.annotations'
        f' ? Quantity(pod.metadata.annotations["{annotation}"]) : Quantity("{default}")'
    }


KWOK_USAGE = {
    "apiVersion": "kwok.x-k8s.io/v1alpha1",
    "kind": "ClusterResourceUsage",
    "metadata": {"name": "usage-from-annotation"},
    "spec": {
        "usages": [
            {
                "usage": {
                    "cpu": _usage(USAGE_CPU_ANNOTATION, "1m"),
                    "memory": _usage(USAGE_MEMORY_ANNOTATION, "1Mi"),
                }
            }
        ]
    },
}

KWOK_DOCUMENTS = tuple(yaml.safe_dump(document, sort_keys=False) for document in (KWOK_METRIC, KWOK_USAGE))


def arguments(port: int, kubeconfig: str, cert: Path, key: Path, cert_dir: Path) -> list[str]:
    return [
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={cert_dir}",
        f"--tls-cert-file={cert}",
        f"--tls-private-key-file={key}",
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        # kwok's Nodes and the real node report their InternalIP and the port their kubelet serves on.
        "--kubelet-preferred-address-types=InternalIP",
        "--kubelet-use-node-status-port=true",
        f"--kubelet-client-certificate={cert}",
        f"--kubelet-client-key={key}",
        # A kubelet's serving certificate is self-signed (kwok's is the admin one, for 127.0.0.1): nothing
        # in this cluster signs kubelet serving certificates. Local only; docs/local-cluster.md says so.
        "--kubelet-insecure-tls=true",
        f"--metric-resolution={RESOLUTION}",
    ]


def manifests(port: int, ca_cert: Path) -> list[dict[str, Any]]:
    """The Service and APIService that make the API server proxy `metrics.k8s.io` to metrics-server."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": SERVICE_NAME, "namespace": SERVICE_NAMESPACE},
        "spec": {
            "type": "ExternalName",
            "externalName": "127.0.0.1",
            "ports": [{"name": "https", "port": port}],
        },
    }
    api_service = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": API_SERVICE_NAME},
        "spec": {
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "service": {"name": SERVICE_NAME, "namespace": SERVICE_NAMESPACE, "port": port},
            "caBundle": base64.b64encode(ca_cert.read_bytes()).decode("ascii"),
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    }
    return [service, api_service]


def register(api_client: Any, port: int, ca_cert: Path) -> None:
    """Create the Service and APIService, or update them (the port changes with every fresh `up`)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    service, api_service = manifests(port, ca_cert)
    core = client.CoreV1Api(api_client)
    registration = client.ApiregistrationV1Api(api_client)
    writes: tuple[tuple[Callable[[], object], Callable[[], object]], ...] = (
        (lambda: core.create_namespaced_service(SERVICE_NAMESPACE, service),
         lambda: core.patch_namespaced_service(SERVICE_NAME, SERVICE_NAMESPACE, service)),
        (lambda: registration.create_api_service(api_service),
         lambda: registration.patch_api_service(API_SERVICE_NAME, api_service)),
    )  # fmt: skip
    for create, update in writes:
        try:
            create()
        except ApiException as error:
            if error.status != 409:
                raise
            update()
