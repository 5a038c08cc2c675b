"""How every `ecs-operator` process logs (the operator, the ECS API, the console): one JSON object per line
on standard error, or plain text for humans."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the object kopf is handling."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        k8s_ref = getattr(record, "k8s_ref", None)
        if isinstance(k8s_ref, dict):
            entry["object"] = {k: k8s_ref.get(k) for k in ("kind", "namespace", "name") if k8s_ref.get(k)}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, sort_keys=False)


class RetriesAreWarnings(logging.Filter):
    """kopf logs its own retries at error level (an API request it will repeat, a handler that raised
    TemporaryError, such as a cluster deletion refused while services remain). They are expected and
    retried, so they are warnings; errors stay for what needs a human."""

    MARKERS = ("will retry", "failed temporarily")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and record.name.startswith("kopf"):
            message = record.getMessage()
            if any(marker in message for marker in self.MARKERS):
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(log_format: str, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RetriesAreWarnings())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # kopf reports every successful handler and timer run at INFO; our own logs say what changed.
    if not verbose:
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    for noisy in ("kubernetes", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
