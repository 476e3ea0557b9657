"""What a handler needs from the running app: the store and the validated document."""

from typing import cast

from connexion.context import context
from flask import current_app

from picus.body import DOCUMENT_KEY
from picus.storage.items import ItemStore

STORE_KEY = "picus.store"


def store() -> ItemStore:
    """The ItemStore that create_app attached to this app."""
    return cast(ItemStore, current_app.extensions[STORE_KEY])


def request_document() -> object:
    """The request body exactly as the strict validator parsed it (JSON null included)."""
    return context[DOCUMENT_KEY]
