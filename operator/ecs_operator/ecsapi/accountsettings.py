"""Account settings: ECS's opt-ins, per principal and for the whole account, kept in the ConfigMap
`ecs-account-settings` of the account namespace (`ecs_operator.account` reads and writes its layout).

The caller's principal is the ARN of its Kubernetes user (`Context.principal`); the root user's ARN
stands for the account default. Writing a setting is a write of that ConfigMap with the caller's rights,
so RBAC decides who may change the account's settings (docs/ecs-api.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from ecs_operator import labels
from ecs_operator.account import (
    SETTINGS,
    SETTINGS_CONFIGMAP,
    AccountSettings,
    Setting,
    account_namespace,
    account_settings,
    settings_data,
)
from ecs_operator.awsmodel.ecs import (
    DeleteAccountSettingRequest,
    DeleteAccountSettingResponse,
    ListAccountSettingsRequest,
    ListAccountSettingsResponse,
    PutAccountSettingDefaultRequest,
    PutAccountSettingDefaultResponse,
    PutAccountSettingRequest,
    PutAccountSettingResponse,
)
from ecs_operator.ecsapi import store
from ecs_operator.ecsapi.consistency import await_cached
from ecs_operator.ecsapi.context import Context, kube_errors
from ecs_operator.ecsapi.errors import AccessDeniedException, ClientException, InvalidParameterException
from ecs_operator.ecsapi.paging import page, paged
from ecs_operator.kube import KubeError

ATTEMPTS = 8


def current(ctx: Context) -> AccountSettings:
    return account_settings(ctx.store.get(store.CONFIGMAP, account_namespace(), SETTINGS_CONFIGMAP))


def readable(ctx: Context) -> AccountSettings:
    """The settings as they affect what the caller creates: AWS's defaults for a caller who may not read
    them (`kubectl ecs` with one cluster's rights)."""
    try:
        return current(ctx)
    except AccessDeniedException:
        return AccountSettings({}, {})


def effective(ctx: Context, name: str, principal: str | None = None) -> str:
    """The caller's (or `principal`'s) effective value of a setting: what it changes for new resources."""
    root = ctx.partition.root()
    return readable(ctx).effective(name, principal or ctx.principal(), root).value


def short_arns(ctx: Context, setting: str) -> dict[str, str]:
    """The annotation a new service or task gets when its creator opted out of the long ARN format."""
    if effective(ctx, setting) == "disabled":
        return {labels.ARN_FORMAT: labels.ARN_FORMAT_SHORT}
    return {}


def _checked(name: str, value: str | None = None) -> None:
    rule = SETTINGS.get(name)
    if rule is None:
        raise InvalidParameterException(f"name: {name!r} is not an account setting ({', '.join(SETTINGS)})")
    if value is not None and value not in rule.values:
        raise InvalidParameterException(
            f"value: {value!r} is not a value of {name} ({', '.join(rule.values)})"
        )
    if value is not None and rule.managed:
        raise InvalidParameterException(f"name: {name} is managed by AWS and cannot be changed")


def _write(ctx: Context, change: Callable[[AccountSettings], AccountSettings]) -> None:
    """Change the settings ConfigMap (creating it the first time), guarded by its resourceVersion."""
    namespace = account_namespace()
    found: Mapping[str, Any] | None = ctx.store.get(store.CONFIGMAP, namespace, SETTINGS_CONFIGMAP)
    for _ in range(ATTEMPTS):
        wanted = settings_data(change(account_settings(found)))
        written: Mapping[str, Any] | None
        try:
            if found is None:
                body = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": SETTINGS_CONFIGMAP,
                        "namespace": namespace,
                        "labels": {labels.ACCOUNT_SETTINGS: "true"},
                    },
                    "data": wanted,
                }
                written = ctx.kube.create(body)
            else:
                old = dict(found.get("data") or {})
                data: dict[str, Any] = {k: None for k in old if k not in wanted}
                data.update({k: v for k, v in wanted.items() if old.get(k) != v})
                if not data:
                    return
                metadata = {"resourceVersion": found["metadata"]["resourceVersion"]}
                written = ctx.kube.merge_patch(
                    "ConfigMap", SETTINGS_CONFIGMAP, namespace, {"metadata": metadata, "data": data}
                )
        except KubeError as error:
            if error.status == 409:  # changed meanwhile (or created): read it as it is now
                with kube_errors(f"the account settings (ConfigMap {namespace}/{SETTINGS_CONFIGMAP})"):
                    found = ctx.kube.get("ConfigMap", SETTINGS_CONFIGMAP, namespace)
                continue
            with kube_errors(f"the account settings (ConfigMap {namespace}/{SETTINGS_CONFIGMAP})"):
                raise
        await_cached(ctx, store.CONFIGMAP, namespace, SETTINGS_CONFIGMAP, written)
        return
    raise ClientException("The account settings changed too often meanwhile; try again.")


def _put(ctx: Context, name: str, value: str, principal: str) -> Setting:
    root = ctx.partition.root()

    def change(settings: AccountSettings) -> AccountSettings:
        if principal == root:
            return AccountSettings({**settings.defaults, name: value}, settings.principals)
        own = {**(settings.principals.get(principal) or {}), name: value}
        return AccountSettings(settings.defaults, {**settings.principals, principal: own})

    _write(ctx, change)
    return Setting(name, value, principal)


def put_account_setting(ctx: Context, request: PutAccountSettingRequest) -> PutAccountSettingResponse:
    _checked(request["name"], request["value"])
    principal = request.get("principalArn") or ctx.principal()
    setting = _put(ctx, request["name"], request["value"], principal)
    return cast(PutAccountSettingResponse, {"setting": setting.shape()})


def put_account_setting_default(
    ctx: Context, request: PutAccountSettingDefaultRequest
) -> PutAccountSettingDefaultResponse:
    _checked(request["name"], request["value"])
    setting = _put(ctx, request["name"], request["value"], ctx.partition.root())
    return cast(PutAccountSettingDefaultResponse, {"setting": setting.shape()})


def delete_account_setting(
    ctx: Context, request: DeleteAccountSettingRequest
) -> DeleteAccountSettingResponse:
    name = request["name"]
    _checked(name)
    principal = request.get("principalArn") or ctx.principal()
    root = ctx.partition.root()
    before = current(ctx).explicit(principal, root)
    if name not in before:
        raise InvalidParameterException(f"name: {name} is not set for {principal}")

    def change(settings: AccountSettings) -> AccountSettings:
        if principal == root:
            return AccountSettings(
                {k: v for k, v in settings.defaults.items() if k != name}, settings.principals
            )
        own = {k: v for k, v in (settings.principals.get(principal) or {}).items() if k != name}
        return AccountSettings(settings.defaults, {**settings.principals, principal: own})

    _write(ctx, change)
    return cast(DeleteAccountSettingResponse, {"setting": Setting(name, before[name], principal).shape()})


def list_account_settings(ctx: Context, request: ListAccountSettingsRequest) -> ListAccountSettingsResponse:
    name, value = request.get("name"), request.get("value")
    if value is not None and name is None:
        raise InvalidParameterException("value: give the setting's name too")
    if name is not None:
        _checked(name)
    principal = request.get("principalArn") or ctx.principal()
    root = ctx.partition.root()
    settings = current(ctx)
    names = [name] if name else list(SETTINGS)
    if request.get("effectiveSettings"):
        found = [settings.effective(n, principal, root) for n in names]
    else:
        explicit = settings.explicit(principal, root)
        found = [Setting(n, explicit[n], principal) for n in names if n in explicit]
    found = [s for s in found if value is None or s.value == value]
    chunk, token = page(found, lambda s: s.name, request.get("nextToken"), request.get("maxResults"), 10, 10)
    shapes = [s.shape(SETTINGS[s.name].managed) for s in chunk]
    return cast(ListAccountSettingsResponse, paged("settings", shapes, token))
