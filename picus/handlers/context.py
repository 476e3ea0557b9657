"""What a handler needs from the running app: its services and the request's principal.

The app's lifespan opens the database and yields the services as lifespan state, which
the server copies into every request's scope (Starlette's `request.state`).
"""

from dataclasses import dataclass

from starlette.requests import Request

from picus.config import Settings
from picus.feed import ChangeHub
from picus.library_internals import connexion_context
from picus.storage.changes import ChangeStore
from picus.storage.idempotency import IdempotentCreates
from picus.storage.items import ItemStore

SERVICES_KEY = "picus"


@dataclass(frozen=True, slots=True)
class Services:
    """One worker's storage: made when the app starts, closed when it stops."""

    settings: Settings
    store: ItemStore
    idempotent_creates: IdempotentCreates
    changes: ChangeStore
    hub: ChangeHub


def services(request: Request) -> Services:
    """The services of the app serving `request`."""
    found: Services = request.scope["state"][SERVICES_KEY]
    return found


def principal(request: Request) -> str:
    """Who is asking: the API key's principal, or "" when keys are off."""
    user = connexion_context(request.scope).get("user")
    return user if isinstance(user, str) else ""
