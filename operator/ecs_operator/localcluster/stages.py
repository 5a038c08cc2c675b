"""kwok Stages: kwok's defaults (fast node and pod lifecycle) plus `pod-fail` for tests.

kwok loads no Stage unless given one, and a config with any Stage replaces all defaults, so the defaults are
copied here from sigs.k8s.io/kwok v0.8.0 (kustomize/stage/node/fast, node/heartbeat-with-lease, pod/fast;
Apache-2.0), assembled from the fragments they share. The only changes: `pod-ready` skips Pods that ask to
fail, and a long template line is split.

A test makes a Pod's containers exit with code N by annotating the Pod (template) with
`ecs.operator.dev/kwok-fail-exit-code: "N"`; with `ecs.operator.dev/kwok-fail-container: "<name>"` only that
container exits and the others keep running (the Pod stays Running, not ready), otherwise every container
exits and the Pod is Failed. kwok never restarts containers, whatever the restartPolicy.
"""

from __future__ import annotations

from ecs_operator.labels import KWOK_FAIL_CONTAINER_ANNOTATION as FAIL_CONTAINER_ANNOTATION
from ecs_operator.labels import KWOK_FAIL_EXIT_CODE_ANNOTATION as FAIL_EXIT_CODE_ANNOTATION
from ecs_operator.localcluster import resourcemetrics

# Go templates are kept out of f-strings: their braces would need doubling.


def stage(name: str, kind: str, expressions: list[str], rest: str) -> str:
    """A Stage of `kind` objects matching every expression; `rest` holds `delay` and/or `next`."""
    return (
        "apiVersion: kwok.x-k8s.io/v1alpha1\n"
        "kind: Stage\n"
        "metadata:\n"
        f"  name: {name}\n"
        "spec:\n"
        "  resourceRef:\n"
        "    apiGroup: v1\n"
        f"    kind: {kind}\n"
        "  selector:\n"
        "    matchExpressions:\n" + "".join(expressions) + rest
    )


def expression(key: str, operator: str, *values: str) -> str:
    lines = f"    - key: '{key}'\n      operator: '{operator}'\n"
    if values:
        lines += "      values:\n" + "".join(f"      - '{value}'\n" for value in values)
    return lines


READY_CONDITION = '.status.conditions.[] | select( .type == "Ready" ) | .status'
NOT_DELETED = expression(".metadata.deletionTimestamp", "DoesNotExist")
FAIL_REQUESTED = f'.metadata.annotations["{FAIL_EXIT_CODE_ANNOTATION}"]'

NODE_CONDITIONS = """\
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
"""

DAEMON_ENDPOINTS = """\
      {{ with NodePort }}
      daemonEndpoints:
        kubeletEndpoint:
          Port: {{ . }}
      {{ end }}
"""

POD_ADDRESSES = """\
      {{ $hostIPs := NodeIPsWith .spec.nodeName }}
      {{ with $hostIPs }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ $uid := or .metadata.uid "" }}
      {{ $name := or .metadata.name "" }}
      {{ $namespace := or .metadata.namespace "" }}
      {{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) $uid $name $namespace }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
"""

NODE_IP = """\
      {{ with NodeIP }}
      - address: {{ . | Quote }}
        type: InternalIP
      {{ end }}
"""

NODE_NAME = """\
      {{ with NodeName }}
      - address: {{ . | Quote }}
        type: Hostname
      {{ end }}
"""

NODE_ADDRESSES_IF_MISSING = (
    """\

      {{ $hasInternalIP := false }}
      {{ $hasHostname := false }}
      {{ range .status.addresses }}
        {{ if eq .type "InternalIP" }}
          {{ $hasInternalIP = true }}
        {{ end }}
        {{ if eq .type "Hostname" }}
          {{ $hasHostname = true }}
        {{ end }}
      {{ end }}
      {{ if or (not $hasInternalIP) (not $hasHostname) }}
      addresses:
      {{ end }}
      {{ if not $hasInternalIP }}
"""
    + NODE_IP
    + """\
      {{ end }}
      {{ if not $hasHostname }}
"""
    + NODE_NAME
    + """\
      {{ end }}

"""
)

# The Node's own `FIELD` when it has one, else a huge default.
RESOURCES = """\
      FIELD:
      {{ with .status.FIELD }}
      {{ YAML . 1 }}
      {{ else }}
        cpu: 1k
        memory: 1Ti
        pods: 1M
      {{ end }}
"""

NODE_CAPACITY_AND_INFO = (
    "\n"
    + RESOURCES.replace("FIELD", "allocatable")
    + RESOURCES.replace("FIELD", "capacity")
    + """\

      {{ $nodeInfo := .status.nodeInfo }}
      {{ $kwokVersion := printf "kwok-%s" Version }}
      nodeInfo:
        architecture: {{ or $nodeInfo.architecture "amd64" }}
        bootID: {{ or $nodeInfo.bootID `""` }}
        containerRuntimeVersion: {{ or $nodeInfo.containerRuntimeVersion $kwokVersion }}
        kernelVersion: {{ or $nodeInfo.kernelVersion $kwokVersion }}
        kubeProxyVersion: {{ or $nodeInfo.kubeProxyVersion $kwokVersion }}
        kubeletVersion: {{ or $nodeInfo.kubeletVersion $kwokVersion }}
        machineID: {{ or $nodeInfo.machineID `""` }}
        operatingSystem: {{ or $nodeInfo.operatingSystem "linux" }}
        osImage: {{ or $nodeInfo.osImage `""` }}
        systemUUID: {{ or $nodeInfo.systemUUID `""` }}
      phase: Running
"""
)

NODE_ADDRESSES = (
    """\

      addresses:
      {{ with .status.addresses }}
      {{ YAML . 1 }}
      {{ else }}
"""
    + NODE_IP
    + NODE_NAME
    + """\
      {{ end }}

"""
)

POD_INITIALIZED = """\
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
"""

READY_CONTAINER = """\
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
"""

RUNNING_SINCE_NOW = """\
        state:
          running:
            startedAt: {{ $now | Quote }}
"""

COMPLETED_NOW = """\
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
"""

POD_READY_STATUS = (
    """\
  next:
    statusTemplate: |
      {{ $now := Now }}

"""
    + POD_INITIALIZED
    + """\
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      {{ range .spec.readinessGates }}
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: {{ .conditionType | Quote }}
      {{ end }}

      containerStatuses:
      {{ range .spec.containers }}
"""
    + READY_CONTAINER
    + RUNNING_SINCE_NOW
    + """\
      {{ end }}

      initContainerStatuses:
      {{ range .spec.initContainers }}
"""
    + READY_CONTAINER
    + """\
        {{ if eq .restartPolicy "Always" }}
        started: true
"""
    + RUNNING_SINCE_NOW
    + """\
        {{ else }}
"""
    + COMPLETED_NOW
    + """\
        {{ end }}
      {{ end }}
"""
)

POD_COMPLETE_STATUS = (
    """\
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $origin := index $root.status.containerStatuses $index }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
"""
    + COMPLETED_NOW
    + """\
      {{ end }}
      phase: Succeeded
"""
)

POD_FAIL_STATUS = (
    """\
  next:
    event:
      type: Warning
      reason: BackOff
      message: 'container exited with a non-zero code (kwok pod-fail stage)'
    statusTemplate: |
      {{ $now := Now }}
      {{ $annotations := or .metadata.annotations dict }}
"""
    + '      {{ $exitCode := index $annotations "'
    + FAIL_EXIT_CODE_ANNOTATION
    + '" }}\n'
    + '      {{ $only := or ( index $annotations "'
    + FAIL_CONTAINER_ANNOTATION
    + '" ) "" }}\n'
    + POD_INITIALIZED
    + """\
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      {{ if or ( not $only ) ( eq .name $only ) }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: {{ $exitCode }}
            reason: Error
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ else }}
"""
    + READY_CONTAINER
    + """\
        started: true
"""
    + RUNNING_SINCE_NOW
    + """\
      {{ end }}
      {{ end }}
"""
)

NODE_INITIALIZE = stage(
    "node-initialize",
    "Node",
    [expression(READY_CONDITION, "NotIn", "True")],
    "  next:\n    statusTemplate: |\n"
    + NODE_CONDITIONS
    + NODE_ADDRESSES_IF_MISSING
    + DAEMON_ENDPOINTS
    + NODE_CAPACITY_AND_INFO,
)

NODE_HEARTBEAT_WITH_LEASE = stage(
    "node-heartbeat-with-lease",
    "Node",
    [expression(".status.phase", "In", "Running"), expression(READY_CONDITION, "In", "True")],
    """\
  delay:
    durationMilliseconds: 600000
    jitterDurationMilliseconds: 610000
  next:
    statusTemplate: |
"""
    + NODE_CONDITIONS
    + NODE_ADDRESSES
    + DAEMON_ENDPOINTS,
)

POD_READY = stage(
    "pod-ready",
    "Pod",
    [
        NOT_DELETED,
        expression(FAIL_REQUESTED, "DoesNotExist"),
        expression(".status.phase", "In", "Pending"),
        expression(READY_CONDITION, "NotIn", "True"),
    ],
    POD_READY_STATUS + POD_ADDRESSES + "      phase: Running\n      startTime: {{ $now | Quote }}\n",
)

POD_COMPLETE = stage(
    "pod-complete",
    "Pod",
    [
        NOT_DELETED,
        expression(".status.phase", "In", "Running"),
        expression(".metadata.ownerReferences.[].kind", "In", "Job"),
    ],
    POD_COMPLETE_STATUS,
)

POD_DELETE = stage(
    "pod-delete",
    "Pod",
    [expression(".metadata.deletionTimestamp", "Exists")],
    "  next:\n    delete: true\n",
)

POD_FAIL = stage(
    "pod-fail",
    "Pod",
    [NOT_DELETED, expression(FAIL_REQUESTED, "Exists"), expression(".status.phase", "In", "Pending")],
    POD_FAIL_STATUS
    + POD_ADDRESSES
    + "      phase: {{ if $only }}Running{{ else }}Failed{{ end }}\n      startTime: {{ $now | Quote }}\n",
)

STAGES = (NODE_INITIALIZE, NODE_HEARTBEAT_WITH_LEASE, POD_READY, POD_COMPLETE, POD_DELETE, POD_FAIL)


# kwok plays the stages of 4 Pods at a time by default: one status PATCH after another, so the Pods of a burst
# start only as fast as 4 requests' latency allows, and more slowly the busier the API server is. Real
# kubelets start Pods on every Node at once; so does a simulated cluster with room to play more at a time.
POD_PLAY_STAGE_PARALLELISM = 32
# kwok v0.8.0 applies none of its option defaults to a configuration it reads from a file (a zero
# parallelism is refused), so every option is written out: kwok's defaults but for the one above; the
# flags (cidr, node selection, addresses) still override.
CONFIGURATION = f"""\
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  enableDebuggingHandlers: true
  enableContentionProfiling: false
  enableProfilingHandler: true
  podPlayStageParallelism: {POD_PLAY_STAGE_PARALLELISM}
  nodePlayStageParallelism: 4
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 1
  enablePodsOnNodeSyncListPager: true
  enablePodsOnNodeSyncStreamWatch: false
"""


def render_stages() -> str:
    """The kwok `--config` file: its options, every Stage and the simulated resource usage, as one YAML."""
    return "---\n".join((CONFIGURATION, *STAGES, *resourcemetrics.KWOK_DOCUMENTS))
