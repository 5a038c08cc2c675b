"""ECS's cluster query language, as ListContainerInstances' `filter` uses it, over a container instance's
description: `attribute:ecs.instance-type == t3.micro`, `ec2InstanceId in [n1, n2]`, `runningTasksCount > 1
and agentConnected == true`, `attribute:ecs.availability-zone =~ us-east-1.*`, `not (status == DRAINING)`.

Subjects: `attribute:<name>` (the instance's attributes, and its Node's labels as custom attributes),
`ec2InstanceId`, `runningTasksCount`, `pendingTasksCount`, `agentConnected`, `agentVersion`, `status`.
Operators: `==`, `!=`, `>`, `>=`, `<`, `<=`, `exists`, `!exists`, `in [..]`, `not_in [..]` (`not in`),
`=~`, `!~`; `and`/`&&`, `or`/`||`, `not`/`!`, parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ecs_operator.ecsapi.errors import InvalidParameterException

_TOKEN = re.compile(r"\s*(\[[^\]]*\]|!exists|==|!=|>=|<=|=~|!~|>|<|\(|\)|&&|\|\||!|[^\s()\[\]=!<>]+)")
FIELDS = (
    "ec2InstanceId",
    "runningTasksCount",
    "pendingTasksCount",
    "agentConnected",
    "agentVersion",
    "status",
)

Instance = Mapping[str, Any]
Test = Callable[[Instance], bool]


def _refuse(expression: str, why: str) -> InvalidParameterException:
    return InvalidParameterException(f"filter: {why} in {expression!r}")


def _tokens(expression: str) -> list[str]:
    tokens, position = [], 0
    while position < len(expression):
        if not expression[position:].strip():
            break
        match = _TOKEN.match(expression, position)
        if match is None:
            raise _refuse(expression, f"cannot read {expression[position:].strip()!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _value(instance: Instance, subject: str) -> str | None:
    if subject.startswith("attribute:"):
        name = subject.removeprefix("attribute:")
        found = {str(a.get("name")): a.get("value") for a in instance.get("attributes") or ()}
        value = found.get(name)
        return None if value is None else str(value)
    if subject == "agentVersion":
        return str((instance.get("versionInfo") or {}).get("agentVersion") or "") or None
    value = instance.get(subject)
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _compare(operator: str, found: str | None, wanted: str) -> bool:
    if found is None:
        return operator == "!="
    if operator in ("==", "!="):
        return (found == wanted) == (operator == "==")
    try:
        left, right = float(found), float(wanted)
    except ValueError:
        left, right = found, wanted  # type: ignore[assignment]
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[operator]


def _list(token: str) -> list[str]:
    return [value.strip() for value in token.strip("[]").split(",") if value.strip()]


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _refuse(self.expression, "the expression ends too early")
        self.position += 1
        return token

    def parse(self) -> Test:
        test = self.disjunction()
        if self.peek() is not None:
            raise _refuse(self.expression, f"unexpected {self.peek()!r}")
        return test

    def disjunction(self) -> Test:
        tests = [self.conjunction()]
        while (self.peek() or "").lower() in ("or", "||"):
            self.take()
            tests.append(self.conjunction())
        return lambda instance: any(t(instance) for t in tests)

    def conjunction(self) -> Test:
        tests = [self.negation()]
        while (self.peek() or "").lower() in ("and", "&&"):
            self.take()
            tests.append(self.negation())
        return lambda instance: all(t(instance) for t in tests)

    def negation(self) -> Test:
        if (self.peek() or "").lower() in ("not", "!") and self.position + 1 < len(self.tokens):
            if self.tokens[self.position + 1] == "(" or self.peek() == "!":
                self.take()
                inner = self.negation()
                return lambda instance: not inner(instance)
        if self.peek() == "(":
            self.take()
            inner = self.disjunction()
            if self.peek() != ")":
                raise _refuse(self.expression, "a parenthesis is not closed")
            self.take()
            return inner
        return self.comparison()

    def comparison(self) -> Test:
        subject = self.take()
        if not subject.startswith("attribute:") and subject not in FIELDS:
            raise _refuse(self.expression, f"{subject!r} is not an attribute or a container instance field")
        operator = self.take()
        lowered = operator.lower()
        if lowered in ("exists", "!exists"):
            present = lowered == "exists"
            return lambda instance: (_value(instance, subject) is not None) == present
        if lowered == "not" and (self.peek() or "").lower() == "in":
            self.take()
            lowered = "not_in"
        if lowered in ("in", "not_in"):
            values = self.take()
            if not values.startswith("["):
                raise _refuse(self.expression, f"{operator} needs a list like [a, b]")
            wanted = set(_list(values))
            inside = lowered == "in"
            return lambda instance: (_value(instance, subject) in wanted) == inside
        value = self.take()
        if operator in ("=~", "!~"):
            try:
                pattern = re.compile(value)
            except re.error as error:
                raise _refuse(self.expression, f"{value!r} is not a regular expression ({error})") from None
            matching = operator == "=~"
            return lambda instance: bool(pattern.fullmatch(_value(instance, subject) or "")) == matching
        if operator not in ("==", "!=", ">", ">=", "<", "<="):
            raise _refuse(self.expression, f"{operator!r} is not an operator")
        return lambda instance: _compare(operator, _value(instance, subject), value)


def matcher(expression: str) -> Test:
    """The test a filter expression makes of a container instance (its ECS description)."""
    if not expression.strip():
        raise _refuse(expression, "the expression is empty")
    return _Parser(expression).parse()
