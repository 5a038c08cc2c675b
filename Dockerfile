# syntax=docker/dockerfile:1
# The ecs-operator image: the project's wheel in a virtual environment on slim Python, run as a non-root
# user with a read-only root filesystem (the Deployment mounts an emptyDir at /tmp).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Behind a TLS-intercepting proxy pip needs that proxy's CA: `--secret id=pip-ca,src=<CA bundle>` with
# `--build-arg PIP_CERT=/run/secrets/pip-ca` mounts it for the pip step only, so no layer keeps it.
ARG PIP_CERT=""
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN --mount=type=secret,id=pip-ca \
    python -m venv /opt/ecs-operator \
 && /opt/ecs-operator/bin/pip wheel --no-deps -w /dist . \
 && /opt/ecs-operator/bin/pip install /dist/*.whl \
 && /opt/ecs-operator/bin/ecs-operator --help > /dev/null

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="ecs-operator" \
      org.opencontainers.image.description="Amazon ECS clusters, task definitions, services and tasks on Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
# kopf names itself after the user (getpass.getuser()), which fails for a uid with no passwd entry: give
# 65532 one, and set USER for clusters that run the pod as an arbitrary uid.
RUN groupadd --gid 65532 ecs-operator \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ecs-operator
# Bytecode was compiled at install time; nothing may be written at run time (read-only root filesystem).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    USER=ecs-operator \
    HOME=/tmp \
    PATH=/opt/ecs-operator/bin:$PATH
COPY --from=build /opt/ecs-operator /opt/ecs-operator
USER 65532:65532
# 8080: Prometheus /metrics; 8081: /healthz (kopf's liveness endpoint).
EXPOSE 8080 8081
ENTRYPOINT ["ecs-operator", "run"]
