"""RFC 9457 problem answers: the exceptions Picus raises, and how each error is answered.

Connexion renders validation errors as problems; this module registers `async` handlers
for them and for Picus's own errors. Connexion's defaults are synchronous, and Connexion
runs a synchronous handler in a worker thread: a thread hop on every 4xx.
"""

from http import HTTPStatus

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.problem import problem
from starlette.exceptions import HTTPException

from picus.errors import (
    IdempotencyKeyBusy,
    IdempotencyKeyReused,
    ItemNotFound,
    PreconditionFailed,
    StorageUnavailable,
    UnstorableDocument,
)
from picus.observability.db_metrics import record_unavailable


class BadRequest(ProblemException):
    """400 with a specific detail."""

    def __init__(self, detail: str) -> None:
        super().__init__(status=400, title="Bad Request", detail=detail)


class ContentTooLarge(ProblemException):
    """413: the body is over the configured limit (RFC 9110 calls it Content Too Large)."""

    def __init__(self, limit: int, what: str = "The request body") -> None:
        super().__init__(
            status=413,
            title="Content Too Large",
            detail=f"{what} is larger than {limit} bytes.",
        )


def register_error_handlers(app: AsyncApp, retry_after: int) -> None:
    """Answer every expected error as a problem, without leaving the event loop."""

    async def known_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, ProblemException)
        return exc.to_problem()

    async def http_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, HTTPException)
        title = HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, title, exc.detail, headers=exc.headers)

    async def not_found(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(404, "Not Found", str(exc))

    async def unstorable(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(400, "Bad Request", f"The database cannot store this document: {exc}")

    async def precondition_failed(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(412, "Precondition Failed", str(exc))

    async def key_reused(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(422, "Unprocessable Content", str(exc))

    async def key_busy(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return problem(409, "Conflict", str(exc), headers={"Retry-After": "1"})

    async def unavailable(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, StorageUnavailable)
        record_unavailable(exc)
        return problem(
            503,
            "Service Unavailable",
            "The database is not available.",
            headers={"Retry-After": str(retry_after)},
        )

    handlers = {
        ProblemException: known_problem,
        HTTPException: http_error,
        ItemNotFound: not_found,
        UnstorableDocument: unstorable,
        PreconditionFailed: precondition_failed,
        IdempotencyKeyReused: key_reused,
        IdempotencyKeyBusy: key_busy,
        StorageUnavailable: unavailable,
    }
    for exc_class, handler in handlers.items():
        app.add_error_handler(exc_class, handler)
