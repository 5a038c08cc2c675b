"""What every request of the console shares (the app's one typed key)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from ecs_operator.console.sessions import Sessions
from ecs_operator.console.signin import Authenticator
from ecs_operator.ecsapi.store import Store
from ecs_operator.identifiers import Partition
from ecs_operator.runtime import Change

if TYPE_CHECKING:
    from ecs_operator.console.live import Broadcaster


class LiveStore(Store, Protocol):
    """The operations layer's watch caches (`ecsapi.store.InformerStore`)."""

    def subscribe(self, callback: Callable[[Change], None]) -> None: ...

    def synced(self) -> bool: ...


@dataclass
class Console:
    """`store`: the watch caches every page reads and the source of live updates; `signin`: how
    browsers sign in (kubeconfig key or bearer token)."""

    store: LiveStore
    signin: Authenticator
    sessions: Sessions = field(default_factory=Sessions)
    partition: Partition = field(default_factory=Partition.from_env)
    secure_cookies: bool = False
    live: Broadcaster | None = None


CONSOLE = web.AppKey("console", Console)
