"""An in-memory Kubernetes API server behind the one call `ecs_operator.kube.Kube` makes of the kubernetes
client (`call_api`), so `Kube` itself runs unchanged on it.

It keeps objects the way the API server does for what the ECS operations rely on: uid, resourceVersion,
generation (bumped by a change outside metadata and status), creationTimestamp; create (409 when it exists,
404 when its namespace does not, 403 while the namespace terminates), update guarded by resourceVersion,
merge patches (RFC 7386, with a resourceVersion in the patch as a precondition), server-side apply (one
field manager's granular maps and atomic lists: what it applied before and no longer applies goes), the
status subresource apart from the rest, deletion that waits for finalizers (deletionTimestamp), garbage
collection of dependents and of a namespace's contents, label selectors on lists. Every request is
authorized by RBAC from the Roles and bindings it holds (`rbac.py`), SelfSubjectAccessReviews answered by
the same rules; refusals are the API server's Status (403, 404, 409, 422), which `Kube` raises as
KubeError. Every write is recorded with who made it, and every change is reported to `watch` callbacks as
a watch would report it.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_operator import kube

from tests.unit.ecsapi.operations import rbac

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (kind, namespace, name); namespace "" when cluster-scoped


@dataclass(frozen=True)
class Who:
    """An authenticated user as the API server sees it (impersonated users get system:authenticated)."""

    user: str
    groups: tuple[str, ...] = ()

    @property
    def all_groups(self) -> tuple[str, ...]:
        return (*self.groups, "system:authenticated")


ADMIN = Who("kubernetes-admin", ("system:masters",))


@dataclass(frozen=True)
class Write:
    """One write request as the API server received it, and what it answered."""

    user: str
    verb: str  # create, update, patch, apply, delete
    kind: str
    namespace: str
    name: str
    subresource: str
    body: Any
    status: int


RBAC_RESOURCES = {
    kind: kube.Resource("rbac.authorization.k8s.io/v1", f"{kind.lower()}s", kind.startswith("Role"))
    for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
}
RESOURCES: dict[str, kube.Resource] = {
    **kube.RESOURCES,
    **kube.API_ONLY_RESOURCES,
    **kube.ELECTION_RESOURCES,
    **RBAC_RESOURCES,
}
KIND_OF_PATH = {(r.api_version, r.plural): kind for kind, r in RESOURCES.items()}
# Kinds whose status is a subresource: writes of the object leave it, writes of /status change only it.
WITH_STATUS = {
    kind
    for kind, r in RESOURCES.items()
    if r.api_version.startswith(kube.API_GROUP)
    or kind in ("Namespace", "Node", "Pod", "Service", "Deployment", "DaemonSet", "ReplicaSet")
    or kind == "HorizontalPodAutoscaler"
}
INITIAL_STATUS = {"Pod": {"phase": "Pending"}, "Namespace": {"phase": "Active"}}
REVIEWS = ("SelfSubjectAccessReview", "SelfSubjectReview", "TokenReview")
TERMINATING = "Terminating"


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def _what(kind: str, name: str) -> str:
    resource = RESOURCES[kind]
    group = resource.api_version.rpartition("/")[0]
    return f'{resource.plural}.{group} "{name}"' if group else f'{resource.plural} "{name}"'


def not_found(kind: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f"{_what(kind, name)} not found")


def conflict(kind: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f"Operation cannot be fulfilled on {_what(kind, name)}: the object has been modified; please apply "
        "your changes to the latest version and try again",
    )


# --- label selectors ------------------------------------------------------------------------------


def selector_matches(selector: str, found: Mapping[str, str]) -> bool:
    """Equality-based selectors as the API server reads them: `k=v`, `k==v`, `k!=v`, `k`, `!k`."""
    for term in (t.strip() for t in selector.split(",")):
        if not term:
            continue
        if "!=" in term:
            key, value = term.split("!=", 1)
            if found.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if found.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in found:
                return False
        elif term not in found:
            return False
    return True


# --- merge patches and server-side apply ----------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unapplied(current: Any, before: Any, now: Any) -> Any:
    """`current` without what one manager applied `before` and no longer applies `now` (maps granular)."""
    if not isinstance(current, dict) or not isinstance(before, dict):
        return current
    result = dict(current)
    for key, value in before.items():
        if not isinstance(now, dict) or key not in now:
            result.pop(key, None)
        elif key in result:
            result[key] = _unapplied(result[key], value, now[key])
    return result


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_copy(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


# --- the server -----------------------------------------------------------------------------------


class FakeApiServer:
    def __init__(self, now: Callable[[], str] = _now) -> None:
        self._now = now
        self._lock = threading.RLock()
        self._objects: dict[Key, Obj] = {}
        self._applied: dict[tuple[Key, str], Obj] = {}  # what each field manager last applied
        self._versions = itertools.count(1)
        self._watchers: list[Callable[[str, Obj], None]] = []
        self.writes: list[Write] = []
        self.tokens: dict[str, Obj] = {}  # TokenReview: token -> the status the API server answers
        self._interposed: list[tuple[str, Callable[[], None]]] = []
        self.rbac = rbac.Rbac(lambda kind: list(self.objects(kind)))
        for namespace in ("default", "kube-system"):
            self.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        self.put_all(rbac.BUILT_IN)

    # --- for tests ---------------------------------------------------------------------------------

    def client(self, who: Who) -> FakeApiClient:
        return FakeApiClient(self, who)

    def kube(self, who: Who, field_manager: str = "test") -> kube.Kube:
        return kube.Kube(self.client(who), field_manager)

    def watch(self, callback: Callable[[str, Obj], None]) -> None:
        """`callback(event type, object)` after every change, as a watch reports it."""
        self._watchers.append(callback)

    def put(self, obj: Mapping[str, Any]) -> Obj:
        """Create an object as the cluster's admin (what a test seeds the cluster with)."""
        return self.create(ADMIN, obj)

    def put_all(self, objects: Iterable[Mapping[str, Any]]) -> None:
        for obj in objects:
            self.put(obj)

    def before_next_write(self, kind: str, action: Callable[[], None]) -> None:
        """Run `action` just before the next write request of `kind` is handled (another client's write
        landing between a read and a write)."""
        self._interposed.append((kind, action))

    def interpose(self, kind: str) -> None:
        for found in [i for i in self._interposed if i[0] == kind]:
            self._interposed.remove(found)
            found[1]()

    def objects(self, kind: str, namespace: str | None = None) -> list[Obj]:
        with self._lock:
            return [
                _json_copy(o)
                for (k, ns, _), o in sorted(self._objects.items())
                if k == kind and namespace in (None, ns)
            ]

    def read(self, kind: str, name: str, namespace: str = "") -> Obj | None:
        with self._lock:
            found = self._objects.get((kind, namespace, name))
            return _json_copy(found) if found is not None else None

    def writes_of(self, kind: str, *, ok: bool = True) -> list[Write]:
        """The writes of `kind` (only those that succeeded, unless `ok` is False)."""
        return [w for w in self.writes if w.kind == kind and (not ok or w.status < 300)]

    # --- the API -----------------------------------------------------------------------------------

    def authorize(
        self, who: Who, verb: str, kind: str, namespace: str, name: str = "", subresource: str = ""
    ) -> None:
        resource = RESOURCES[kind]
        group = resource.api_version.rpartition("/")[0]
        asked = rbac.Asked(verb, group, resource.plural, subresource, namespace, name)
        if self.rbac.allows(who.user, who.all_groups, asked):
            return
        plural = f"{resource.plural}/{subresource}" if subresource else resource.plural
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        subject = _what(kind, name) if name else ".".join(p for p in (resource.plural, group) if p)
        raise ApiError(
            403,
            "Forbidden",
            f'{subject} is forbidden: User "{who.user}" cannot {verb} resource "{plural}" in API group '
            f'"{group}" {scope}',
        )

    def get(self, who: Who, kind: str, namespace: str, name: str) -> Obj:
        self.authorize(who, "get", kind, namespace, name)
        found = self.read(kind, name, namespace)
        if found is None:
            raise not_found(kind, name)
        return found

    def list(self, who: Who, kind: str, namespace: str, selector: str = "") -> Obj:
        self.authorize(who, "list", kind, namespace)
        items = [
            o
            for o in self.objects(kind, namespace or None)
            if selector_matches(selector, o["metadata"].get("labels") or {})
        ]
        resource = RESOURCES[kind]
        return {
            "apiVersion": resource.api_version,
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": str(self._version_now())},
            "items": items,
        }

    def create(self, who: Who, obj: Mapping[str, Any]) -> Obj:
        kind = str(obj["kind"])
        body = _json_copy(obj)
        metadata = body.setdefault("metadata", {})
        namespace = str(metadata.get("namespace") or "") if RESOURCES[kind].namespaced else ""
        if kind in REVIEWS:
            return self._review(who, body)
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = f"{metadata['generateName']}{uuid.uuid4().hex[:5]}"
        name = str(metadata.get("name") or "")
        self.authorize(who, "create", kind, namespace)  # a create is authorized without its name
        if not name:
            raise ApiError(
                422, "Invalid", f"{kind} is invalid: metadata.name: Required value: name is required"
            )
        if RESOURCES[kind].namespaced and not namespace:
            raise ApiError(422, "Invalid", f"{kind} is invalid: metadata.namespace: Required value")
        with self._lock:
            self._check_namespace(kind, namespace, name)
            if (kind, namespace, name) in self._objects:
                raise ApiError(409, "AlreadyExists", f"{_what(kind, name)} already exists")
            metadata.update(uid=str(uuid.uuid4()), creationTimestamp=self._now())
            metadata.pop("resourceVersion", None)
            metadata.pop("deletionTimestamp", None)
            if namespace:
                metadata["namespace"] = namespace
            if kind in WITH_STATUS and kind != "Node":  # a Node's kubelet may report its status at once
                body["status"] = dict(INITIAL_STATUS.get(kind) or {})
            if "spec" in body:
                metadata["generation"] = 1
            return self._store("ADDED", (kind, namespace, name), body)

    def update(self, who: Who, obj: Mapping[str, Any], subresource: str = "") -> Obj:
        kind = str(obj["kind"])
        metadata = obj.get("metadata") or {}
        namespace = str(metadata.get("namespace") or "") if RESOURCES[kind].namespaced else ""
        name = str(metadata.get("name") or "")
        self.authorize(who, "update", kind, namespace, name, subresource)
        with self._lock:
            current = self._current(kind, namespace, name)
            wanted = metadata.get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise conflict(kind, name)
            return self._replace(current, _json_copy(obj), subresource)

    def patch(
        self, who: Who, kind: str, namespace: str, name: str, patch: Mapping[str, Any], subresource: str = ""
    ) -> Obj:
        self.authorize(who, "patch", kind, namespace, name, subresource)
        with self._lock:
            current = self._current(kind, namespace, name)
            wanted = (patch.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise conflict(kind, name)
            return self._replace(current, merge_patch(current, patch), subresource)

    def apply(self, who: Who, obj: Mapping[str, Any], manager: str) -> Obj:
        kind = str(obj["kind"])
        metadata = obj.get("metadata") or {}
        namespace = str(metadata.get("namespace") or "") if RESOURCES[kind].namespaced else ""
        name = str(metadata["name"])
        key = (kind, namespace, name)
        self.authorize(who, "patch", kind, namespace, name)
        with self._lock:
            applied = _json_copy(obj)
            current = self._objects.get(key)
            if current is None:
                created = self.create(who, applied)
                self._applied[(key, manager)] = applied
                return created
            before = self._applied.get((key, manager)) or {}
            kept = _unapplied(_json_copy(current), before, applied)
            result = self._replace(current, merge_patch(kept, applied), "")
            self._applied[(key, manager)] = applied
            return result

    def delete(self, who: Who, kind: str, namespace: str, name: str) -> Obj:
        self.authorize(who, "delete", kind, namespace, name)
        with self._lock:
            current = self._current(kind, namespace, name)
            if current["metadata"].get("finalizers") or (kind == "Namespace" and self._contents(name)):
                if not current["metadata"].get("deletionTimestamp"):
                    current = _json_copy(current)
                    current["metadata"].update(deletionTimestamp=self._now(), deletionGracePeriodSeconds=0)
                    if kind == "Namespace":
                        current["status"] = {"phase": TERMINATING}
                    current = self._store("MODIFIED", (kind, namespace, name), current)
                if kind == "Namespace":
                    self._empty(name)
                return current
            self._remove((kind, namespace, name))
            return {"kind": "Status", "apiVersion": "v1", "status": "Success"}

    # --- keeping objects ---------------------------------------------------------------------------

    def _version_now(self) -> int:
        return next(self._versions)

    def _check_namespace(self, kind: str, namespace: str, name: str) -> None:
        if not namespace:
            return
        found = self._objects.get(("Namespace", "", namespace))
        if found is None:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
        if found["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f"{_what(kind, name)} is forbidden: unable to create new content in namespace {namespace} "
                "because it is being terminated",
            )

    def _current(self, kind: str, namespace: str, name: str) -> Obj:
        found = self._objects.get((kind, namespace, name))
        if found is None:
            raise not_found(kind, name)
        return _json_copy(found)

    def _replace(self, current: Obj, wanted: Obj, subresource: str) -> Obj:
        kind = str(current["kind"])
        metadata = current["metadata"]
        if subresource == "status":
            result = {**current, "status": wanted.get("status") or {}}
        else:
            result = {k: v for k, v in wanted.items() if k != "status"}
            if "status" in current:
                result["status"] = current["status"]
            if kind not in WITH_STATUS and "status" in wanted:
                result["status"] = wanted["status"]
            kept = {
                k: metadata[k] for k in ("uid", "creationTimestamp", "deletionTimestamp") if k in metadata
            }
            result["metadata"] = {**dict(wanted.get("metadata") or {}), **kept}
            if "generation" in metadata:
                result["metadata"]["generation"] = metadata["generation"] + int(
                    _spec_part(result) != _spec_part(current)
                )
        result["metadata"]["resourceVersion"] = metadata["resourceVersion"]
        if result == current:
            return current
        key = (kind, str(metadata.get("namespace") or ""), str(metadata["name"]))
        if metadata.get("deletionTimestamp") and not result["metadata"].get("finalizers"):
            self._remove(key)
            return result
        return self._store("MODIFIED", key, result)

    def _store(self, event: str, key: Key, obj: Obj) -> Obj:
        obj["metadata"]["resourceVersion"] = str(self._version_now())
        obj.setdefault("apiVersion", RESOURCES[key[0]].api_version)
        self._objects[key] = obj
        self._tell(event, obj)
        return _json_copy(obj)

    def _remove(self, key: Key) -> None:
        removed = self._objects.pop(key, None)
        if removed is None:
            return
        for manager_key in [k for k in self._applied if k[0] == key]:
            del self._applied[manager_key]
        self._tell("DELETED", removed)
        uid = removed["metadata"].get("uid")
        dependents = [
            k
            for k, o in self._objects.items()
            if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or ())
        ]
        for dependent in dependents:
            self._collect(dependent)
        if key[0] == "Namespace":
            self._empty(key[2])
        elif key[1]:
            self._finish_namespace(key[1])

    def _collect(self, key: Key) -> None:
        """The garbage collector deleting a dependent (its finalizers still hold it)."""
        found = self._objects.get(key)
        if found is None:
            return
        if found["metadata"].get("finalizers"):
            if not found["metadata"].get("deletionTimestamp"):
                changed = _json_copy(found)
                changed["metadata"]["deletionTimestamp"] = self._now()
                self._store("MODIFIED", key, changed)
            return
        self._remove(key)

    def _contents(self, namespace: str) -> list[Key]:
        return [k for k in self._objects if k[1] == namespace]

    def _empty(self, namespace: str) -> None:
        """The namespace controller: the contents go, then the namespace once nothing holds them."""
        for key in self._contents(namespace):
            self._collect(key)
        self._finish_namespace(namespace)

    def _finish_namespace(self, namespace: str) -> None:
        found = self._objects.get(("Namespace", "", namespace))
        if found is not None and found["metadata"].get("deletionTimestamp") and not self._contents(namespace):
            self._remove(("Namespace", "", namespace))

    def _tell(self, event: str, obj: Obj) -> None:
        for callback in self._watchers:
            callback(event, _json_copy(obj))

    # --- reviews -----------------------------------------------------------------------------------

    def _review(self, who: Who, body: Obj) -> Obj:
        kind = body["kind"]
        self.authorize(who, "create", kind, "")
        if kind == "SelfSubjectReview":
            body["status"] = {"userInfo": {"username": who.user, "groups": list(who.all_groups)}}
            return body
        if kind == "TokenReview":
            token = str((body.get("spec") or {}).get("token") or "")
            body["status"] = self.tokens.get(token) or {"authenticated": False, "error": "invalid token"}
            return body
        attributes = (body.get("spec") or {}).get("resourceAttributes") or {}
        asked = rbac.Asked(
            str(attributes.get("verb") or ""),
            str(attributes.get("group") or ""),
            str(attributes.get("resource") or ""),
            str(attributes.get("subresource") or ""),
            str(attributes.get("namespace") or ""),
            str(attributes.get("name") or ""),
        )
        body["status"] = {"allowed": self.rbac.allows(who.user, who.all_groups, asked)}
        return body


def _spec_part(obj: Mapping[str, Any]) -> Obj:
    """What a change of bumps the generation: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


# --- the kubernetes client's side -----------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    kind: str
    namespace: str
    name: str
    subresource: str


def route(path: str) -> Route:
    """`ecs_operator.kube.path_for`, read back."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        api_version, rest = parts[1], parts[2:]
    else:
        api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    kind = KIND_OF_PATH[(api_version, rest[0])]
    name = rest[1] if len(rest) > 1 else ""
    return Route(kind, namespace, name, rest[2] if len(rest) > 2 else "")


class FakeApiClient(kube.Transport):
    """What `Kube` sends to the API server (its Transport), answered by the fake as `who`."""

    def __init__(self, server: FakeApiServer, who: Who) -> None:
        self.server = server
        self.who = who

    def send(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        content_type: str,
        body: Any,
        timeout: kube.Timeout,
        stream: bool = False,
    ) -> bytes:
        parameters = dict(query)
        if stream or parameters.get("watch"):
            raise NotImplementedError("the fake API server reports changes to `watch` callbacks instead")
        target = route(path)
        if method != "GET":
            self.server.interpose(target.kind)
        verb = {"POST": "create", "PUT": "update", "DELETE": "delete"}.get(method, "patch")
        if "apply-patch" in content_type:
            verb = "apply"
        try:
            answer = self._answer(method, target, parameters, body, content_type)
        except ApiError as error:
            if method != "GET":
                self._record(verb, target, body, error.status)
            raise kube.KubeError(error.status, error.message) from None
        if method != "GET":
            self._record(verb, target, body, 200)
        return json.dumps(answer).encode()

    def _answer(
        self, method: str, target: Route, query: Mapping[str, str], body: Any, content_type: str
    ) -> Obj:
        server, who = self.server, self.who
        if method == "GET" and target.name:
            return server.get(who, target.kind, target.namespace, target.name)
        if method == "GET":
            return server.list(who, target.kind, target.namespace, query.get("labelSelector", ""))
        if method == "POST":
            return server.create(who, {**body, "kind": target.kind})
        if method == "PUT":
            return server.update(who, {**body, "kind": target.kind}, target.subresource)
        if method == "DELETE":
            return server.delete(who, target.kind, target.namespace, target.name)
        if "apply-patch" in content_type:
            return server.apply(who, {**body, "kind": target.kind}, query.get("fieldManager", ""))
        return server.patch(who, target.kind, target.namespace, target.name, body, target.subresource)

    def _record(self, verb: str, target: Route, body: Any, status: int) -> None:
        name = target.name or str(((body or {}).get("metadata") or {}).get("name") or "")
        self.server.writes.append(
            Write(
                self.who.user,
                verb,
                target.kind,
                target.namespace,
                name,
                target.subresource,
                _json_copy(body),
                status,
            )
        )
