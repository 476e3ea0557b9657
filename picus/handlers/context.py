"""What a handler needs from the running app: the store and the validated document."""

from typing import cast

from connexion.context import context
from flask import current_app

from picus.body import DOCUMENT_KEY
from picus.storage.idempotency import IdempotentCreates
from picus.storage.items import ItemStore

STORE_KEY = "picus.store"
IDEMPOTENT_CREATES_KEY = "picus.idempotent_creates"


def store() -> ItemStore:
    """The ItemStore that create_app attached to this app."""
    return cast(ItemStore, current_app.extensions[STORE_KEY])


def idempotent_creates() -> IdempotentCreates:
    """The keyed-create storage that create_app attached to this app."""
    return cast(IdempotentCreates, current_app.extensions[IDEMPOTENT_CREATES_KEY])


def principal() -> str:
    """Who is asking: the API key's principal, or "" when keys are off."""
    user = context.get("user")
    return user if isinstance(user, str) else ""


def request_document() -> object:
    """The request body exactly as the strict validator parsed it (JSON null included)."""
    return context[DOCUMENT_KEY]
