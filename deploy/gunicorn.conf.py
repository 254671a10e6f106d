"""Gunicorn's configuration for Kauko in production: `gunicorn -c deploy/gunicorn.conf.py`.

Gunicorn manages the processes (restarts a dead one, reloads on HUP); each process is a uvicorn
event loop serving config.asgi, so a slow client (one byte every few seconds) waits on its
socket in the loop and never holds a process the way a synchronous worker was held.
Every value can be set from the environment (deploy/kauko.env lists them).
"""

import multiprocessing
import os

wsgi_app = "config.asgi:application"
worker_class = "uvicorn_worker.UvicornWorker"
bind = os.environ.get("KAUKO_BIND", "127.0.0.1:8000").split(",")
# Gunicorn itself also reads WEB_CONCURRENCY; say it here so the default is visible.
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
# A worker that does not answer gunicorn's heartbeat for this long is restarted. Slow
# clients do not count: the event loop keeps answering while they trickle.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Only the reverse proxy in front may say which address and scheme a request came from.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Logs go to standard output and error: systemd's journal (or a log shipper) keeps them.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
