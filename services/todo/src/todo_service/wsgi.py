"""WSGI entry point: the only module that creates the app at import (for gunicorn)."""

from todo_service import create_app

app = create_app()
