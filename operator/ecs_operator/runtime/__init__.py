"""One controller runtime for every kind: watch caches, debounced work queues, pure plans, one executor.

kopf stays the framework (process startup and cleanup, the liveness probe, logging); what the runtime adds
is what kopf does not do well at scale: informers with slim projections, keys in rate-limited queues, and
level-triggered passes that write only what differs. docs/operator.md explains it in one page.
"""

from ecs_operator.plans.plan import Deletion, Event, Patch, Plan
from ecs_operator.runtime.caches import Caches, Source
from ecs_operator.runtime.controller import Controller, Key, View, Watch, own_key, register, via_index
from ecs_operator.runtime.core import Runtime
from ecs_operator.runtime.informer import Change, Informer, without_managed_fields
from ecs_operator.runtime.queue import DONE, Result, WorkQueue, requeue

__all__ = [
    "DONE",
    "Caches",
    "Change",
    "Controller",
    "Deletion",
    "Event",
    "Informer",
    "Key",
    "Patch",
    "Plan",
    "Result",
    "Runtime",
    "Source",
    "View",
    "Watch",
    "WorkQueue",
    "own_key",
    "register",
    "requeue",
    "via_index",
    "without_managed_fields",
]
