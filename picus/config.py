"""Settings, read from the environment once at start-up and validated there.

A bad value stops start-up with one clear line (see `picus.cli`), never a traceback
in the middle of a request.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

from picus.apikeys import KeyEntry, KeyEntryError, parse_entries, parse_key_file
from picus.storage.urls import DatabaseTarget, DatabaseURLError, parse_database_url

DEFAULT_SQLITE_PATH = Path("var") / "picus.sqlite3"

PositiveSeconds = Annotated[float, Field(gt=0, le=3600)]


class ConfigError(Exception):
    """The environment holds a value Picus cannot run with."""


class Settings(BaseSettings):
    """Everything an operator can set. Names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_prefix="PICUS_", frozen=True, extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "PICUS_DATABASE_URL"),
        description="postgresql://, postgres:// or sqlite:/// URL; empty means the embedded "
        "SQLite file.",
    )
    sqlite_path: Path = Field(default=DEFAULT_SQLITE_PATH)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_json_depth: int = Field(default=100, ge=1, le=200)
    db_pool_size: int = Field(
        default=10, ge=1, le=100, description="Database connections per worker (a fixed pool)."
    )
    db_pool_timeout: PositiveSeconds = 2.0
    db_connect_timeout: int = Field(default=3, ge=1, le=60)
    db_statement_timeout: PositiveSeconds = 5.0
    db_statement_cache_size: int = Field(
        default=100,
        ge=0,
        le=10000,
        description="Prepared statements each connection keeps by name (asyncpg's "
        "statement_cache_size). 0 behind PgBouncer in transaction mode before 1.21, which "
        "cannot follow named prepared statements across server connections.",
    )
    retry_after: int = Field(default=5, ge=1, le=3600)
    validate_responses: bool = False
    log_format: Literal["json", "console"] | None = Field(
        default=None, description="Log lines as JSON or for people; unset: console on a terminal."
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    graceful_timeout: PositiveSeconds = Field(
        default=20.0,
        description="Seconds a stopping server gives in-flight requests to finish (SIGTERM).",
    )
    metrics_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "PICUS_METRICS_DIR"),
        description="prometheus-client's multiprocess directory; unset: a fresh temporary one.",
    )

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    workers: int = Field(default=1, ge=1, le=64, description="`picus serve` worker processes.")
    database_password_file: Path | None = Field(
        default=None,
        description="File holding the database password (a container secret), merged into "
        "DATABASE_URL so the URL itself never carries it.",
    )

    changes_retention: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        le=366 * 24 * 3600,
        description="Seconds the change feed keeps a change (older positions answer 410).",
    )
    changes_keepalive: PositiveSeconds = Field(
        default=15.0, description="Seconds between keep-alive comments on a quiet event stream."
    )
    changes_retry_ms: int = Field(
        default=2000,
        ge=100,
        le=600_000,
        description="The reconnection delay an event stream asks EventSource for (`retry:`).",
    )
    listen_database_url: str = Field(
        default="",
        description="Where the change feed LISTENs (PostgreSQL only); empty: DATABASE_URL. "
        "Behind PgBouncer in transaction mode, point it at PostgreSQL itself.",
    )

    idempotency_key_ttl: int = Field(
        default=24 * 3600,
        ge=1,
        le=30 * 24 * 3600,
        description="Seconds an Idempotency-Key is remembered after the create it names.",
    )
    api_keys: str = Field(
        default="",
        description="API key entries printed by `picus keys new` (salted hashes), separated "
        "by commas or white space.",
    )
    api_keys_file: Path | None = Field(
        default=None, description="A secret file with one API key entry per line."
    )
    require_api_keys: bool = Field(
        default=False,
        description="Refuse to start without at least one API key (so a stack that means to "
        "be protected never runs open).",
    )

    @field_validator("api_keys")
    @classmethod
    def _must_be_key_entries(cls, value: str) -> str:
        parse_entries(value)
        return value

    @field_validator("api_keys_file")
    @classmethod
    def _must_be_a_key_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            _read_key_file(value)
        return value

    @field_validator("require_api_keys")
    @classmethod
    def _keys_must_exist_if_required(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not _key_entries(
            info.data.get("api_keys", ""), info.data.get("api_keys_file")
        ):
            raise ValueError(
                "no API keys are configured (set PICUS_API_KEYS or PICUS_API_KEYS_FILE)"
            )
        return value

    @property
    def api_key_entries(self) -> tuple[KeyEntry, ...]:
        """Every configured API key; none means the API is open (the embedded default)."""
        return _key_entries(self.api_keys, self.api_keys_file)

    @field_validator("database_url")
    @classmethod
    def _must_parse(cls, value: str) -> str:
        if value:
            try:
                parse_database_url(value)
            except DatabaseURLError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("listen_database_url")
    @classmethod
    def _must_be_postgresql(cls, value: str) -> str:
        if value:
            try:
                target = parse_database_url(value)
            except DatabaseURLError as exc:
                raise ValueError(str(exc)) from None
            if target.backend != "postgresql":
                raise ValueError("the change feed listens on PostgreSQL only")
        return value

    @field_validator("database_password_file")
    @classmethod
    def _must_be_a_usable_secret(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        database_url = info.data.get("database_url", "")
        if not database_url:
            raise ValueError("needs DATABASE_URL (the embedded SQLite file has no password)")
        if parse_database_url(database_url).url.password is not None:
            raise ValueError("DATABASE_URL already has a password; set only one of the two")
        _read_secret(value)  # fail at start-up, not at the first connection
        return value

    @property
    def database(self) -> DatabaseTarget:
        """The database to use: DATABASE_URL (plus the password file), or embedded SQLite."""
        if not self.database_url:
            return DatabaseTarget(make_url(f"sqlite:///{self.sqlite_path}"))
        target = parse_database_url(self.database_url)
        if self.database_password_file is not None:
            password = _read_secret(self.database_password_file)
            target = DatabaseTarget(target.url.set(password=password))
        return target

    @property
    def listen_database(self) -> DatabaseTarget:
        """Where the change feed LISTENs: PICUS_LISTEN_DATABASE_URL, else the database."""
        if not self.listen_database_url:
            return self.database
        target = parse_database_url(self.listen_database_url)
        if self.database_password_file is not None and target.url.password is None:
            password = _read_secret(self.database_password_file)
            target = DatabaseTarget(target.url.set(password=password))
        return target

    @property
    def url(self) -> URL:
        """The database's URL for SQLAlchemy's synchronous engine (Alembic, the CLI, SQLite)."""
        return self.database.url

    @property
    def embedded(self) -> bool:
        """True on the zero-setup SQLite default."""
        return self.database.backend == "sqlite"


def _read_secret(path: Path) -> str:
    """A secret file's text without trailing newlines, as the postgres image reads its own."""
    try:
        secret = path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path} ({exc.__class__.__name__})") from None
    if not secret:
        raise ValueError(f"{path} is empty")
    return secret


def _key_entries(inline: str, path: Path | None) -> tuple[KeyEntry, ...]:
    return parse_entries(inline) + (_read_key_file(path) if path is not None else ())


def _read_key_file(path: Path) -> tuple[KeyEntry, ...]:
    try:
        return parse_key_file(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path} ({exc.__class__.__name__})") from None
    except KeyEntryError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_settings(**overrides: object) -> Settings:
    """Read the environment (plus explicit overrides); raise ConfigError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{_env_name(err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def _env_name(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.lower() == "database_url" or field.isupper():
        return field.upper()
    return f"PICUS_{field.upper()}"
