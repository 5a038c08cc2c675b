"""The ECS account and region this installation answers as, and where its account-level state lives.

Task definitions are regional in ECS, and account settings and capacity providers belong to the account:
here their records live in one namespace, the account namespace (`ECS_OPERATOR_ACCOUNT_NAMESPACE`, default
`ecs-account`), which the operator creates when it starts and the manifests ship.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecs_operator import labels

ACCOUNT_NAMESPACE_ENV = "ECS_OPERATOR_ACCOUNT_NAMESPACE"
DEFAULT_ACCOUNT_NAMESPACE = "ecs-account"


def account_namespace() -> str:
    return os.environ.get(ACCOUNT_NAMESPACE_ENV) or DEFAULT_ACCOUNT_NAMESPACE


def account_namespace_object(name: str) -> dict[str, Any]:
    """The account namespace as the operator applies it (labelled, so its informers see it)."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {labels.MANAGED_BY: labels.MANAGED_BY_VALUE}},
    }


# --- account settings (PutAccountSetting and friends) ---------------------------------------------

SETTINGS_CONFIGMAP = "ecs-account-settings"
PRINCIPALS_KEY = "principals.json"


@dataclass(frozen=True)
class SettingRule:
    """An ECS account setting: AWS's default, the values it takes, whether AWS manages it (read-only)."""

    default: str
    values: tuple[str, ...]
    managed: bool = False


_SWITCH = ("enabled", "disabled")
SETTINGS: dict[str, SettingRule] = {
    "serviceLongArnFormat": SettingRule("enabled", _SWITCH),
    "taskLongArnFormat": SettingRule("enabled", _SWITCH),
    "containerInstanceLongArnFormat": SettingRule("enabled", _SWITCH),
    "awsvpcTrunking": SettingRule("disabled", _SWITCH),
    "containerInsights": SettingRule("disabled", ("enhanced", "enabled", "disabled")),
    "fargateFIPSMode": SettingRule("disabled", _SWITCH),
    "tagResourceAuthorization": SettingRule("on", ("on", "off")),
    "fargateTaskRetirementWaitPeriod": SettingRule("7", ("0", "7", "14")),
    "guardDutyActivate": SettingRule("off", ("on", "off"), managed=True),
    "defaultLogDriverMode": SettingRule("non-blocking", ("blocking", "non-blocking")),
    "fargateEventWindows": SettingRule("disabled", _SWITCH),
}


@dataclass(frozen=True)
class Setting:
    name: str
    value: str
    principal: str  # the principal's ARN; the root user's for the account default

    def shape(self, managed: bool = False) -> dict[str, str]:
        """ECS's `Setting`."""
        kind = "aws_managed" if managed else "user"
        return {"name": self.name, "value": self.value, "principalArn": self.principal, "type": kind}


@dataclass(frozen=True)
class AccountSettings:
    """The settings set explicitly: the account's defaults (the root user's) and per principal."""

    defaults: Mapping[str, str]
    principals: Mapping[str, Mapping[str, str]]

    def explicit(self, principal: str, root: str) -> dict[str, str]:
        return dict(self.defaults) if principal == root else dict(self.principals.get(principal) or {})

    def effective(self, name: str, principal: str, root: str) -> Setting:
        """The principal's own value, else the account default, else AWS's."""
        own = (self.principals.get(principal) or {}).get(name) if principal != root else None
        if own is not None:
            return Setting(name, own, principal)
        if name in self.defaults:
            return Setting(name, self.defaults[name], root)
        return Setting(name, SETTINGS[name].default, root)


def account_settings(configmap: Mapping[str, Any] | None) -> AccountSettings:
    """The settings the ConfigMap holds: a key per account default (`containerInsights: enhanced`), and
    `principals.json`, a JSON object of principal ARN -> {setting: value}. What cannot be read is ignored
    (a setting ECS does not know, a value it does not take), so a hand edit never breaks every call."""
    data = dict((configmap or {}).get("data") or {})
    defaults = {k: str(v) for k, v in data.items() if k in SETTINGS and str(v) in SETTINGS[k].values}
    try:
        loaded = json.loads(data.get(PRINCIPALS_KEY) or "{}")
    except ValueError:
        loaded = {}
    principals = {
        str(arn): {
            k: str(v) for k, v in dict(found).items() if k in SETTINGS and str(v) in SETTINGS[k].values
        }
        for arn, found in (loaded.items() if isinstance(loaded, dict) else ())
        if isinstance(found, dict)
    }
    return AccountSettings(defaults, {k: v for k, v in principals.items() if v})


def settings_data(settings: AccountSettings) -> dict[str, str]:
    """The ConfigMap data for `settings` (what `account_settings` reads back)."""
    data = dict(sorted(settings.defaults.items()))
    if settings.principals:
        data[PRINCIPALS_KEY] = json.dumps(
            {k: dict(sorted(v.items())) for k, v in sorted(settings.principals.items())}, sort_keys=True
        )
    return data
