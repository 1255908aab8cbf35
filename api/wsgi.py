"""The WSGI entry point for gunicorn only: ``gunicorn 'api.wsgi:app'``.

``adjudicator serve`` does not use this module (it calls ``api.create_app`` in
each worker itself); it exists for running the app under a plain gunicorn.
"""

from api import create_app

app = create_app()
