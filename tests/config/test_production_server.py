"""The production server (deploy/gunicorn.conf.py: gunicorn with uvicorn workers) keeps
answering while partners' clients trickle their uploads: a slow client holds a coroutine
waiting on its socket, never one of the Python workers (issue 13, point 4)."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SERVER = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
        return response.status, time.monotonic() - started


@pytest.fixture
def production_server(tmp_path):
    port = free_port()
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 60,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": "",
           "ALLOWED_HOSTS": "127.0.0.1", "KAUKO_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "2", "GUNICORN_ACCESS_LOG": "",
           # No TLS front here: partners' posts are answered, not redirected to HTTPS.
           "SECURE_SSL_REDIRECT": "false"}
    server = subprocess.Popen(PRODUCTION_SERVER, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the production server did not start")
                time.sleep(0.2)
        yield base, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def trickle(port: int, stop: threading.Event) -> None:
    """Announce a 1,000-byte ISO 18626 message, then send it one byte every half second."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"POST /iso18626 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/xml\r\nContent-Length: 1000\r\n\r\n<")
        for _ in range(40):  # at most 20 s, less when the test is done
            if stop.wait(0.5):
                return
            try:
                conn.sendall(b" ")
            except OSError:
                return


def test_two_slow_uploads_to_the_partner_endpoint_do_not_hold_the_two_workers(
        production_server):
    base, port = production_server
    for _ in range(10):  # both workers have loaded the URLs and views (a cold start is slow)
        get(f"{base}/healthz", timeout=10)
    stop = threading.Event()
    clients = [threading.Thread(target=trickle, args=(port, stop)) for _ in range(2)]
    for client in clients:
        client.start()
    try:
        time.sleep(1.5)  # both uploads are under way, as many as the server has workers
        for _ in range(3):
            status, took = get(f"{base}/healthz", timeout=10)
            assert status == 200
            # Held workers would keep it waiting for the whole upload (20 s, past the timeout).
            assert took < 5, f"/healthz took {took:.1f} s while two clients trickled"
        assert all(client.is_alive() for client in clients), "the slow uploads still go on"
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=10)
