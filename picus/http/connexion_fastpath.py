"""Connexion's per-request work, done once per operation at start-up.

Connexion 3.3 rebuilds on every request what never changes: a URI parser, a parameter
validator (with a deep copy and a new jsonschema validator per parameter), a body
validator, and the handler's decorators (argument injection, `inspect.signature`).
Measured, that was about a third of a GET's framework CPU. Here:

- `PrebuiltParameterValidator` keeps one jsonschema validator per parameter; it plugs in
  through `validator_map["parameter"]`, a supported extension point.
- `PrebuiltRequestValidationMiddleware` is Connexion's request validation middleware
  (passed in the app's `middlewares` list, a supported extension point) whose operations
  build their URI parser, parameter validator and body validators once. It also reads a
  request's media type case-insensitively (RFC 9110): Connexion's lookup is not, and a
  `Content-Type: APPLICATION/JSON` body went unvalidated into a 500.
- `SwaggerUIOffTheAPIPath` is Connexion's Swagger UI middleware that lets a request pass
  straight on unless its path is the UI's or the served spec's: Connexion's own runs two
  router passes on every API request only to find it is not one of those.
- `DirectApi` binds each operation to its handler as an ASGI endpoint that calls
  `handler(request)` with Starlette's Request: no per-request decoration or argument
  injection. Handlers read their (already validated) parameters from the request.

Private Connexion API used here, each guarded by tests/test_connexion_fastpath.py:
`AsyncApp._middleware_app` (its `api_cls` picks the operation class),
`RequestValidationOperation._operation` / `._validator_map`,
`AbstractOperation._uri_parser_class`.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from connexion.options import SwaggerUIOptions
from connexion.utils import is_null, is_nullable
from connexion.validators import ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from picus.library_internals import middleware_app

Handler = Callable[[Request], Awaitable[Response]]


class PrebuiltParameterValidator(ParameterValidator):
    """Connexion's parameter validator with one compiled schema per parameter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[int, Draft4Validator] = {}

    def validate_parameter(
        self, parameter_type: str, value: Any, param: dict[str, Any], param_name: Any = None
    ) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{param['name']}'"
            return None
        validator = self._schemas.get(id(param))
        if validator is None:
            schema = param.get("schema", param)
            validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
            self._schemas[id(param)] = validator
        try:
            validator.validate(value)
        except ValidationError as exc:
            # One line: jsonschema's own text would dump the whole schema into the answer.
            return f"The {parameter_type} parameter '{param['name']}' is invalid: {exc.message}"
        return None


class PrebuiltRequestValidationOperation(RequestValidationOperation):
    """Validates one operation's requests with validators built when the app is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        operation = self._operation
        self._parameters = self._validator_map["parameter"](
            operation.parameters,
            uri_parser=self._uri_parser(),
            strict_validation=self.strict_validation,
            security_query_params=self.security_query_params,
        )
        self._bodies: dict[tuple[str, str], Any] = {}

    def _uri_parser(self) -> Any:
        operation = self._operation
        return operation._uri_parser_class(operation.parameters, operation.body_definition())

    def _body_validator(self, mime_type: str, encoding: str) -> Any:
        """The body validator for this media type (None: the operation takes no body)."""
        key = (mime_type, encoding)
        if key not in self._bodies:
            schema = self._operation.body_schema(mime_type)
            validator_cls = self._validator_map["body"].get(mime_type) if schema else None
            self._bodies[key] = validator_cls and validator_cls(
                schema=schema,
                required=self._operation.request_body.get("required", False),
                nullable=is_nullable(self._operation.body_definition(mime_type)),
                encoding=encoding,
                strict_validation=self.strict_validation,
                uri_parser=self._uri_parser(),
            )
        return self._bodies[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameters.validate(scope)
        mime_type, encoding = self.extract_content_type(scope["headers"])
        mime_type = mime_type.lower()  # media types are case-insensitive
        self.validate_mime_type(mime_type)
        validator = self._body_validator(mime_type, encoding.lower())
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class _PrebuiltRequestValidationAPI(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        return PrebuiltRequestValidationOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class PrebuiltRequestValidationMiddleware(RequestValidationMiddleware):
    """RequestValidationMiddleware with validators built once per operation."""

    api_cls = _PrebuiltRequestValidationAPI


class SwaggerUIOffTheAPIPath(SwaggerUIMiddleware):
    """Swagger UI and the served spec, without a router pass for every other request."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._prefixes: tuple[str, ...] = ()

    def add_api(self, specification: Any, base_path: str | None = None, **kwargs: Any) -> None:
        super().add_api(specification, base_path=base_path, **kwargs)
        base = (base_path if base_path is not None else specification.base_path).rstrip("/")
        options = kwargs.get("swagger_ui_options") or SwaggerUIOptions()
        ui_path = options.swagger_ui_path.rstrip("/")
        spec_stem = (options.spec_path or "/openapi.json").rsplit(".", 1)[0]
        # The UI and its assets, and the spec as JSON and YAML.
        self._prefixes += (base + ui_path, base + spec_stem + ".")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self._prefixes):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class DirectOperation:
    """An operation's ASGI endpoint: `await handler(request)`, then send its response."""

    def __init__(self, handler: Handler, operation_id: str) -> None:
        self.handler = handler
        self.operation_id = operation_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


class DirectApi(AsyncApi):
    """AsyncApp's API, binding operations to handlers that take Starlette's Request."""

    def make_operation(self, operation: AbstractOperation) -> DirectOperation:
        return DirectOperation(operation.function, operation.operation_id)


def bind_handlers_directly(app: AsyncApp) -> None:
    """Make `app` call its handlers as `handler(request)`; call before `add_api`."""
    middleware_app(app).api_cls = DirectApi
