"""RFC 9457 problem answers: the exceptions Picus raises and the mapping of storage errors.

Connexion renders every ProblemException (and its own validation errors) as
`application/problem+json`; this module only adds what Connexion does not know.
"""

from collections.abc import Callable

from connexion import FlaskApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.problem import problem

from picus.observability.database import record_unavailable
from picus.storage import (
    IdempotencyKeyBusy,
    IdempotencyKeyReused,
    ItemNotFound,
    PreconditionFailed,
    StorageUnavailable,
    UnstorableDocument,
)


class BadRequest(ProblemException):
    """400 with a specific detail."""

    def __init__(self, detail: str) -> None:
        super().__init__(status=400, title="Bad Request", detail=detail)


class ContentTooLarge(ProblemException):
    """413: the body is over the configured limit (RFC 9110 calls it Content Too Large)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status=413,
            title="Content Too Large",
            detail=f"The request body is larger than {limit} bytes.",
        )


def register_error_handlers(app: FlaskApp, retry_after: int) -> None:
    """Map storage's exceptions to problems; everything else is Connexion's default."""

    def not_found(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(404, "Not Found", str(exc))

    def unstorable(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(400, "Bad Request", f"The database cannot store this document: {exc}")

    def precondition_failed(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(412, "Precondition Failed", str(exc))

    def key_reused(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(422, "Unprocessable Content", str(exc))

    def key_busy(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(409, "Conflict", str(exc), headers={"Retry-After": "1"})

    def unavailable(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        record_unavailable(exc)
        return problem(
            503,
            "Service Unavailable",
            "The database is not available.",
            headers={"Retry-After": str(retry_after)},
        )

    handlers: dict[type[Exception], Callable[[ConnexionRequest, Exception], ConnexionResponse]]
    handlers = {
        ItemNotFound: not_found,
        UnstorableDocument: unstorable,
        PreconditionFailed: precondition_failed,
        IdempotencyKeyReused: key_reused,
        IdempotencyKeyBusy: key_busy,
        StorageUnavailable: unavailable,
    }
    for exc_class, handler in handlers.items():
        app.add_error_handler(exc_class, handler)
