"""Translations remembered between the passes over one object.

A service or task is translated on every pass, to tell whether its children are as they should be, and
the passes after the first (the status ones) translate the same inputs again: for a task, most of a
pass's CPU. A translation depends only on what its fingerprint names (the object's uid, generation and spec,
the revision, the cluster's placement settings, the pod template's annotations), so the last one of
each object is kept, as compact JSON, for the most recently translated objects only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import orjson

from ecs_operator.translate.result import Translation, TranslationWarning

SIZE = 2048


def fingerprint(body: Mapping[str, Any], *inputs: Any) -> bytes:
    """What a translation of `body` depends on: its identity, its spec, and `inputs`."""
    metadata = body.get("metadata") or {}
    made_of = [metadata.get("uid"), metadata.get("generation"), body.get("spec"), *inputs]
    return orjson.dumps(made_of, option=orjson.OPT_SORT_KEYS)


class Translations:
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, tuple[bytes, bytes, tuple[TranslationWarning, ...]]] = OrderedDict()

    def get(self, key: Hashable, made_of: bytes, translate: Callable[[], Translation]) -> Translation:
        """The translation of `key` whose inputs are `made_of`: the one kept, else `translate()` (a fresh
        copy either way, so a caller may change it)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == made_of:
                self._kept.move_to_end(key)
                return Translation(orjson.loads(kept[1]), list(kept[2]))
        translation = translate()
        try:
            entry = (made_of, orjson.dumps(translation.objects), tuple(translation.warnings))
        except TypeError:  # not plain JSON: not kept
            return translation
        with self._lock:
            self._kept[key] = entry
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return Translation(orjson.loads(entry[1]), list(entry[2]))

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._kept.pop(key, None)
