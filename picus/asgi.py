"""The ASGI application object uvicorn imports in each worker process."""

from picus.app import create_app
from picus.config import load_settings

app = create_app(load_settings())
