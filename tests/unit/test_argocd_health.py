"""The Argo CD health checks in manifests/argocd, run with LuaJIT in Argo CD's restricted library set.

Argo CD (util/lua/lua.go) runs a health script from argocd-cm with the standard libraries skipped and only
base, package, table and a "safe" os (time, date) opened; `obj` is the live object and the script returns
`{status, message}`. Our sandbox is a subset of that (no package/require, no dofile/loadfile), so a script
that passes here also runs there. Fixtures follow Argo CD's resource_customizations layout: per kind a
health_test.yaml listing `{healthStatus: {status, message}, inputPath}`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lupa.luajit21 as lupa
import pytest
import yaml
from ecs_operator import API_GROUP

ROOT = Path(__file__).resolve().parents[2]
HEALTH_DIR = ROOT / "manifests" / "argocd" / "health"
FIXTURES = Path(__file__).resolve().parent / "argocd"
HEALTH_KUSTOMIZATION = HEALTH_DIR / "kustomization.yaml"
SCRIPT = HEALTH_DIR / "ecs.lua"
KINDS = ("EcsCluster", "EcsTaskDefinition", "EcsService", "EcsTask")
HEALTH_CODES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

# The globals a custom health script sees in Argo CD, minus package/require and file loading.
SANDBOX = """
local base_names = {
  "assert", "collectgarbage", "error", "getfenv", "getmetatable", "ipairs", "load", "loadstring",
  "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawset", "select", "setfenv",
  "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall", "_VERSION",
}
local real = _G
local table_library = {}
for name, fn in real.pairs(real.table) do table_library[name] = fn end
local safe_os = {time = real.os.time, date = real.os.date}
-- Without Argo's string library, strings have no methods either ("abc"):upper() must fail.
real.getmetatable("").__index = nil
return function(source, object)
  local env = {}
  for _, name in real.ipairs(base_names) do env[name] = real[name] end
  env.table = table_library
  env.os = safe_os
  env._G = env
  env.obj = object
  local chunk, err = real.loadstring(source, "=health.lua")
  if chunk == nil then real.error(err) end
  real.setfenv(chunk, env)
  return chunk()
end
"""


def _plain(value: Any) -> Any:
    """YAML timestamps back to the RFC 3339 strings the API server sends."""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@pytest.fixture(scope="module")
def run_health() -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    runtime = lupa.LuaRuntime(register_eval=False, register_builtins=False)
    runtime.execute("python = nil")
    runner = runtime.execute(SANDBOX)

    def run(script: str, obj: dict[str, Any]) -> dict[str, Any]:
        result = runner(script, runtime.table_from(obj, recursive=True))
        assert lupa.lua_type(result) == "table", f"a health script must return a table, got {result!r}"
        return dict(result.items())

    return run


def _script(kind: str) -> str:
    """Every kind's health check is the one script."""
    return SCRIPT.read_text()


def _cases() -> Iterator[Any]:
    for kind in KINDS:
        tests = yaml.safe_load((FIXTURES / kind / "health_test.yaml").read_text())["tests"]
        for test in tests:
            yield pytest.param(kind, test, id=f"{kind}-{Path(test['inputPath']).stem}")


@pytest.mark.parametrize(("kind", "test"), list(_cases()))
def test_health_matches_fixture(
    run_health: Callable[[str, dict[str, Any]], dict[str, Any]], kind: str, test: dict[str, Any]
) -> None:
    obj = _plain(yaml.safe_load((FIXTURES / kind / test["inputPath"]).read_text()))
    assert obj["kind"] == kind
    result = run_health(_script(kind), obj)
    assert set(result) <= {"status", "message"}, result
    assert result["status"] in HEALTH_CODES
    assert result == test["healthStatus"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_covers_the_required_scenarios(kind: str) -> None:
    tests = yaml.safe_load((FIXTURES / kind / "health_test.yaml").read_text())["tests"]
    objects = [
        (test["healthStatus"], yaml.safe_load((FIXTURES / kind / test["inputPath"]).read_text()))
        for test in tests
    ]
    statuses = {health["status"] for health, _ in objects}
    assert {"Healthy", "Progressing", "Degraded"} <= statuses
    assert any("deletionTimestamp" in obj["metadata"] for _, obj in objects), "no deleting fixture"
    assert any("status" not in obj for _, obj in objects), "no fixture without status"
    assert any(
        "status" in obj and obj["status"]["observedGeneration"] < obj["metadata"]["generation"]
        for _, obj in objects
    ), "no stale-generation fixture"
    listed = {Path(test["inputPath"]).name for test in tests}
    on_disk = {path.name for path in (FIXTURES / kind / "testdata").glob("*.yaml")}
    assert listed == on_disk, "every testdata file is listed in health_test.yaml"


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_conditions_are_progressing_not_healthy(
    run_health: Callable[[str, dict[str, Any]], dict[str, Any]], kind: str
) -> None:
    obj = {
        "apiVersion": f"{API_GROUP}/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "generation": 1},
        "status": {
            "observedGeneration": 1,
            "conditions": [{"type": t, "status": "Unknown", "reason": "Starting"} for t in ("Ready",)],
        },
    }
    assert run_health(_script(kind), obj)["status"] == "Progressing"


@pytest.mark.parametrize(
    "snippet",
    [
        'return {status = string.upper("healthy")}',
        'return {status = ("Healthy"):lower()}',
        "return {status = math.floor(1)}",
        'return {status = io.read("*a")}',
        'return {status = os.getenv("HOME")}',
        'return {status = require("os").time()}',
    ],
)
def test_sandbox_refuses_what_argo_cd_does_not_provide(
    run_health: Callable[[str, dict[str, Any]], dict[str, Any]], snippet: str
) -> None:
    with pytest.raises(lupa.LuaError):
        run_health(snippet, {"metadata": {}})


def test_sandbox_offers_what_argo_cd_provides(
    run_health: Callable[[str, dict[str, Any]], dict[str, Any]],
) -> None:
    script = (
        "local names = {}\n"
        "for _, c in ipairs(obj.items) do table.insert(names, tostring(c)) end\n"
        'return {status = "Healthy", message = table.concat(names, ",") .. " " .. type(os.time())}'
    )
    assert run_health(script, {"items": [1, "b"]}) == {"status": "Healthy", "message": "1,b number"}


def test_argocd_cm_gets_the_one_script_under_every_kinds_key() -> None:
    kustomization = yaml.safe_load(HEALTH_KUSTOMIZATION.read_text())
    (generator,) = kustomization["configMapGenerator"]
    assert generator["name"] == "argocd-cm" and kustomization["namespace"] == "argocd"
    assert generator["options"]["disableNameSuffixHash"] is True
    files = dict(entry.split("=", 1) for entry in generator["files"])
    assert files == {f"resource.customizations.health.{API_GROUP}_{kind}": SCRIPT.name for kind in KINDS}
    assert [p.name for p in HEALTH_DIR.glob("*.lua")] == [SCRIPT.name], "the script lives once"


def _application(name: str) -> dict[str, Any]:
    application: dict[str, Any] = yaml.safe_load((ROOT / "manifests" / "argocd" / name).read_text())
    assert application["kind"] == "Application"
    return application


def test_operator_application_syncs_manifests_default_server_side_before_workloads() -> None:
    operator = _application("application.yaml")
    samples = _application("application-samples.yaml")
    assert operator["spec"]["source"]["path"] == "manifests/default"
    assert (ROOT / "manifests" / "default" / "kustomization.yaml").is_file()
    assert (ROOT / samples["spec"]["source"]["path"] / "kustomization.yaml").is_file()
    for application in (operator, samples):
        assert "ServerSideApply=true" in application["spec"]["syncPolicy"]["syncOptions"]
    wave = "argocd.argoproj.io/sync-wave"
    assert int(operator["metadata"]["annotations"][wave]) < int(samples["metadata"]["annotations"][wave])


def test_crds_sync_in_an_earlier_wave_than_everything_else() -> None:
    kustomization = yaml.safe_load((ROOT / "manifests" / "default" / "kustomization.yaml").read_text())
    (crd_patch,) = [p for p in kustomization["patches"] if p["target"]["kind"] == "CustomResourceDefinition"]
    assert (
        int(yaml.safe_load(crd_patch["patch"])["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < 0
    )


def test_samples_sync_cluster_then_task_definitions_then_services_and_tasks() -> None:
    patches = _application("application-samples.yaml")["spec"]["source"]["kustomize"]["patches"]
    waves = {
        p["target"]["kind"]: int(
            yaml.safe_load(p["patch"])["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        )
        for p in patches
    }
    assert waves["EcsCluster"] < waves["EcsTaskDefinition"] < waves["EcsService|EcsTask"]


def test_hpa_owned_desired_count_is_ignored_and_respected_at_sync() -> None:
    spec = _application("application-samples.yaml")["spec"]
    assert {"group": API_GROUP, "kind": "EcsService", "jsonPointers": ["/spec/desiredCount"]} in spec[
        "ignoreDifferences"
    ]
    assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]


def _labels_and_annotations(obj: Any) -> Iterator[tuple[str, str]]:
    """Every label and annotation key in an object, pod templates included."""
    if isinstance(obj, dict):
        metadata = obj.get("metadata")
        if isinstance(metadata, dict):
            for field in ("labels", "annotations"):
                for key in metadata.get(field) or {}:
                    yield field, key
        for value in obj.values():
            yield from _labels_and_annotations(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _labels_and_annotations(value)


def test_children_never_carry_argo_cd_tracking_metadata() -> None:
    """Argo CD treats every object with its tracking label/annotation as part of the Application, and would
    prune the operator's children as strays. The translation takes only specs and the owner's identity, and
    labels children with the operator's own keys only, so no label or annotation of the custom resource
    (Argo CD's among them) reaches them."""
    from ecs_operator.resources import parse_service, parse_task_definition
    from ecs_operator.translate import translate_service

    samples = ROOT / "manifests" / "samples"
    taskdef = yaml.safe_load((samples / "taskdefinition-web.yaml").read_text())
    service = yaml.safe_load((samples / "service-web.yaml").read_text())
    owner = {"apiVersion": service["apiVersion"], "kind": "EcsService", "name": "web", "uid": "u-1"}
    translation = translate_service(
        parse_service(service["spec"]),
        parse_task_definition(taskdef["spec"]),
        revision=1,
        cluster="demo",
        namespace="demo",
        name="web",
        owner=owner,
    )
    assert translation.objects
    keys = set(_labels_and_annotations(translation.objects))
    assert keys
    for field, key in keys:
        assert not key.startswith("argocd.argoproj.io/"), (field, key)
        assert key != "app.kubernetes.io/instance", (field, key)
        if field == "labels":
            assert key.startswith(f"{API_GROUP}/") or key == "app.kubernetes.io/managed-by", key


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("observed", "expected"), [(3, "Healthy"), (2, "Progressing")])
def test_generation_from_the_ready_condition_when_status_has_none(
    run_health: Callable[[str, dict[str, Any]], dict[str, Any]], kind: str, observed: int, expected: str
) -> None:
    obj = {
        "kind": kind,
        "metadata": {"name": "x", "generation": 3},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "message": "ok", "observedGeneration": observed}
            ]
        },
    }
    assert run_health(_script(kind), obj)["status"] == expected
