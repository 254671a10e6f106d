"""End-to-end ISO 18626: real HTTP through `live_server`, real Celery when there is a broker.

With CELERY_BROKER_URL set (CI) a Celery worker runs in a thread of this test session,
against the same test database, and every outbound message travels through Redis; without
one, tasks run eagerly (still after commit, still over HTTP). Data must be committed for
the server thread and the worker to see it, hence transactional tests.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

import pytest

BROKER = os.environ.get("CELERY_BROKER_URL", "")

# SQLite's in-memory test database is one connection shared by the test thread and the live
# server's threads, which must then take turns (PostgreSQL needs none of this).
DB_LOCK = threading.RLock()
_serialized = [False]


def _turn():
    return DB_LOCK if _serialized[0] else contextlib.nullcontext()


@pytest.fixture
def take_turns(monkeypatch):
    """For tests whose peer posts to us while the test thread works: with SQLite, each
    inbound message and each step of the test holds DB_LOCK."""
    from django.db import connection

    from ill.inbound import endpoint as iso_inbound

    if connection.vendor != "sqlite":
        yield
        return
    receive = iso_inbound.receive

    def receive_in_turn(**kwargs):
        with DB_LOCK:
            return receive(**kwargs)

    monkeypatch.setattr(iso_inbound, "receive", receive_in_turn)
    _serialized[0] = True
    yield
    _serialized[0] = False


@pytest.fixture(autouse=True)
def _tasks_run_in_process(settings):
    """Overrides tests/conftest.py: with a broker the worker runs the tasks for real."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = not BROKER
    # Quick retries so a partner that comes back is served within the test.
    settings.ISO18626_RETRY_BASE_SECONDS = 0.3
    settings.ISO18626_RETRY_MAX_SECONDS = 2
    settings.ISO18626_HTTP_TIMEOUT = 5
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def celery_worker_thread(django_db_setup, django_db_blocker):
    if not BROKER:
        yield None
        return
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.task_always_eager = False
    # A queue of this session's own: another test run on the same Redis must not take our
    # tasks to its database (nor we theirs).
    app.conf.task_default_queue = f"kauko-test-{os.getpid()}"
    # The worker thread reads and writes the test database like the live server does.
    with django_db_blocker.unblock(), start_worker(
            app, pool="threads", concurrency=4, perform_ping_check=False,
            shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker


@pytest.fixture
def iso_live(live_server, celery_worker_thread, settings):
    settings.KAUKO_BASE_URL = live_server.url
    return live_server


def wait_until(check, timeout: float = 15.0, what: str = "") -> None:
    """Poll until `check()` is true: messages cross threads (and maybe Redis)."""
    from django.db import OperationalError

    from ill.outbox import services as iso_outbound

    end = time.monotonic() + timeout
    last = None
    polls = 0
    while time.monotonic() < end:
        try:
            with _turn():
                last = check()
            if last:
                return
            polls += 1
            if not BROKER and polls % 10 == 0:
                with _turn():
                    iso_outbound.sweep()  # what beat does; eagerly nothing else retries
        except (AssertionError, OperationalError) as exc:
            # OperationalError: SQLite's shared in-memory test database locks whole tables
            # while the server thread writes; look again.
            last = exc
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: {last!r}")




def act(fn, attempts: int = 20):
    """Run a staff step, again if SQLite's in-memory test database had a table locked by
    the server thread (each step is one transaction, so a retry is clean)."""
    from django.db import OperationalError

    for attempt in range(attempts):
        try:
            with _turn():
                return fn()
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)
