"""The local control plane: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.

versions    pinned versions and the binary cache (`$ECS_OPERATOR_CACHE`)
gotool      finding a new enough `go`
build       compiling the binaries from Go modules into the cache
paths       the state folder (`$ECS_OPERATOR_LOCAL_DIR`, default `<repo root>/.local`)
ports       free loopback ports
pki         certificates and the kubeconfig
components  each component's command line and the state folder's layout
stages      kwok Stages, including `pod-fail` for tests
processes   starting detached processes and stopping exactly those
state       the record of a running cluster
health      waiting until a component answers
nodes       the default kwok Nodes and `ensure_node` for tests
cluster     up, down, status, restart
command     the `ecs-operator local-cluster` subcommand
realnode/   the optional real node (kubelet, containerd, kube-proxy) beside the kwok Nodes
podman      podman with a configuration that fits the host
images      images made here from Debian packages (base, pause, busybox, nginx)
operator_image  `make image`: the operator image with Docker, else podman

See docs/local-cluster.md.
"""
