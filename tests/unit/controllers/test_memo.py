"""A translation is made once per set of inputs, and handed out as a fresh copy each time."""

from __future__ import annotations

from typing import Any

from ecs_operator.controllers.memo import Translations, fingerprint
from ecs_operator.translate.result import Translation, TranslationWarning


def body(spec: dict[str, Any], generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"uid": "u1", "generation": generation}, "spec": spec}


def test_a_translation_is_remembered_until_an_input_changes_and_each_caller_gets_its_own_copy() -> None:
    made: list[int] = []

    def translate() -> Translation:
        made.append(1)
        return Translation([{"kind": "Pod", "spec": {"n": len(made)}}], [TranslationWarning("a", "b")])

    memo = Translations()
    first = memo.get(("ns", "web"), fingerprint(body({"x": 1}), "td:1"), translate)
    first.objects[0]["spec"]["n"] = 99
    again = memo.get(("ns", "web"), fingerprint(body({"x": 1}), "td:1"), translate)
    assert again.objects == [{"kind": "Pod", "spec": {"n": 1}}] and again.warnings == first.warnings
    assert len(made) == 1
    memo.get(("ns", "web"), fingerprint(body({"x": 1}), "td:2"), translate)
    memo.get(("ns", "web"), fingerprint(body({"x": 2}), "td:2"), translate)
    memo.forget(("ns", "web"))
    memo.get(("ns", "web"), fingerprint(body({"x": 2}), "td:2"), translate)
    assert len(made) == 4


def test_only_the_most_recent_objects_are_kept() -> None:
    memo = Translations(size=2)
    made: list[str] = []
    for name in ("a", "b", "c", "a"):
        memo.get(name, b"same", lambda n=name: made.append(n) or Translation([{"name": n}]))  # type: ignore[func-returns-value]
    assert made == ["a", "b", "c", "a"]
