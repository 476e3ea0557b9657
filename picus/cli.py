"""The `picus` command: serve the API, manage the schema.

Configuration is read and validated here, once, before anything starts; a bad value
ends the command with one line on stderr and exit status 2.
"""

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from picus.apikeys import SCOPES, new_key
from picus.config import ConfigError, Settings, load_settings

EXIT_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `picus` console script."""
    args = _parser().parse_args(argv)
    if hasattr(args, "run_without_settings"):  # e.g. making the first API key
        standalone: int = args.run_without_settings(args)
        return standalone
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"picus: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    result: int = args.run(settings, args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="picus", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service under uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument(
        "--workers", type=_positive, help="worker processes (default: PICUS_WORKERS, else 1)"
    )
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply pending Alembic migrations")
    upgrade.set_defaults(run=_db_upgrade)

    keys = commands.add_parser("keys", help="API keys")
    keys_commands = keys.add_subparsers(required=True, metavar="ACTION")
    new = keys_commands.add_parser(
        "new", help="make an API key: print it once, with its configuration entry"
    )
    new.add_argument("--scope", choices=SCOPES, required=True, help="write keys may also read")
    new.set_defaults(run_without_settings=_keys_new)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from picus.observability.lifecycle import operated

    workers = args.workers or settings.workers
    with operated(settings, args.host, args.port, workers) as operations:
        if settings.embedded:
            _upgrade(settings)
        # uvicorn finishes in-flight requests on SIGTERM (within PICUS_GRACEFUL_TIMEOUT),
        # then re-raises the signal so the exit status would say "killed". A requested stop
        # is a success: this handler turns that re-raised signal into a normal return, and
        # so exit status 0.
        signal.signal(signal.SIGTERM, _ignore_signal)
        uvicorn.run(
            "picus.asgi:app",
            host=args.host,
            port=args.port,
            workers=workers,
            proxy_headers=True,
            # Bounded request heads, head timeouts, problem+json for the server's own errors.
            http="picus.http.server_protocol:PicusHttpToolsProtocol",
            **operations,
        )
    return 0


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    """Handler for the SIGTERM uvicorn re-raises after its graceful shutdown."""


def _keys_new(args: argparse.Namespace) -> int:
    """Print a new key and its entry; Picus keeps only the entry (a salted hash)."""
    key, entry = new_key(args.scope)
    print("# API key (shown only now; give it to the client, Picus keeps only its hash):")
    print(key)
    print("# Configuration entry: add it to PICUS_API_KEYS (comma-separated) or as a line")
    print("# of the file named by PICUS_API_KEYS_FILE (e.g. a Compose secret):")
    print(entry.line())
    return 0


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    _upgrade(settings)
    return 0


def _upgrade(settings: Settings) -> None:
    from picus.storage import schema
    from picus.storage.engine import create_engine

    engine = create_engine(settings)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
