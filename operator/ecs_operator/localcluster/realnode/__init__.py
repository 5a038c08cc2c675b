"""The real node: one Node of the local cluster that runs containers (`local-cluster up --real-node`).

build    kubelet and kube-proxy (same Kubernetes module as the control plane) and crictl, cached apart
layout   host-wide names (netns, veth, iptables chain, cgroup), addresses and the node's folder
config   containerd, CNI, kubelet and kube-proxy configuration (pure)
network  the node's network namespace, its link to the host and the API server's port on that link
host     prerequisites, cgroups, mounts and the kernel settings the kubelet changes
node     start, reuse, load images, tear down

See docs/local-cluster.md.
"""
