"""Logging for every process `picus serve` starts: one line per record, JSON or console.

structlog's ProcessorFormatter renders the standard library's records (Picus's own,
uvicorn's, Connexion's), so no process needs structlog configured; the same dictConfig is
handed to uvicorn, which applies it in each worker before the app is imported.
"""

import sys
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, WrappedLogger

from picus.observability.request_id import current_request_id

LogFormat = Literal["json", "console"]

# The only `extra` fields that reach a log line: an allow-list, so nothing (a payload, a
# header) is logged by accident. docs/operate.md lists them.
LOG_FIELDS = (
    "method",
    "path",
    "operation_id",
    "status",
    "duration_ms",
    "client",
    "cause",
    "version",
    "bind",
    "workers",
    "database",
    "graceful_timeout_s",
)

# Connexion logs every 4xx problem at WARNING with its detail, which can quote the request
# (a rejected parameter value); the access line already says which request failed and how.
QUIET_LOGGERS = {"connexion.middleware.exceptions": "ERROR", "uvicorn.access": "WARNING"}
# Alembic's set-up chatter (its plugins, the DDL mode) is for PICUS_LOG_LEVEL=debug only.
CHATTY_BELOW_DEBUG = {"alembic": "WARNING"}


def add_request_id(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the id of the request this line was logged in, if any."""
    request_id = current_request_id.get()
    if request_id is not None:
        event_dict["request_id"] = request_id
    return event_dict


def build_formatter(renderer: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    """The logging.Formatter for `renderer`; dictConfig calls this by name in each process."""
    pre_chain: list[Any] = [
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        add_request_id,
        structlog.stdlib.ExtraAdder(allow=LOG_FIELDS),
        structlog.processors.CallsiteParameterAdder(
            [structlog.processors.CallsiteParameter.PROCESS]
        ),
    ]
    final: list[Any]
    if renderer == "json":
        final = [
            structlog.processors.format_exc_info,  # the traceback as one string field
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ]
    else:
        console = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            timestamp_key="time",
            # Not rich's traceback (when installed): it prints local variables, payloads too.
            exception_formatter=structlog.dev.plain_traceback,
        )
        final = [console]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )


def choose_format(configured: LogFormat | None) -> LogFormat:
    """PICUS_LOG_FORMAT if set; otherwise console on a terminal, JSON everywhere else."""
    if configured is not None:
        return configured
    return "console" if sys.stderr.isatty() else "json"


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A logging.config.dictConfig mapping (plain data, so uvicorn can hand it to workers)."""
    quiet = QUIET_LOGGERS | ({} if level.lower() == "debug" else CHATTY_BELOW_DEBUG)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "picus": {"()": f"{__name__}.build_formatter", "renderer": log_format},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "picus",
            },
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's loggers keep no handlers of their own: one format for everything.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            **{
                name: {"level": threshold, "handlers": [], "propagate": True}
                for name, threshold in quiet.items()
            },
        },
    }
