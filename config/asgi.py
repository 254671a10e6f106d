"""The production entry point: gunicorn runs it with uvicorn workers (deploy/gunicorn.conf.py).

Under ASGI, Django reads a request's whole body asynchronously before it hands the request to
a thread for the (synchronous) views, so a client that trickles its upload holds a coroutine
waiting on a socket, never a Python worker: other partners and staff are served meanwhile.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
