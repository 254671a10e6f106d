"""Benchmark the ISO 18626 endpoint and the outbox.

    DATABASE_URL=postgres://postgres@127.0.0.1/kauko_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1/kauko_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 python manage.py bench_iso18626

Inbound: the production server (2 workers; `--server sync` or `both` for the
synchronous gunicorn workers used before it) serves the endpoint; a mix of requesting- and supplying-
agency notifications and status requests on existing requests is posted by several client
threads (each message distinct, prepared before the clock starts). Prints messages/s and
the latency median and p99. Outbound: messages to the mock peer are queued in the outbox,
then one Celery worker delivers them (by default one process, solo pool; with
`--worker-pool prefork` one process per core, as `make worker` starts it); prints
messages/s from its first delivery to its last.

It writes two institutions (BENCHR, BENCHS) with their requests into the database it is
given: point it at a database of its own.
"""

from __future__ import annotations

import datetime
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from celery import current_app as app  # the project's app (config.celery), which nothing imports
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from ill import iso18626 as iso
from ill.borrowing.services import borrowing_request_create
from ill.lending.messages import lending_event
from ill.lending.services import lending_request_create
from ill.models import BorrowingRequest, LendingRequest, OutboxMessage, RotaEntry
from kauko.models import Institution
from partners.models import Partner
from patrons.models import Patron
from workbench.mockpeer import MockPeer

ROOT = Path(settings.BASE_DIR)


def _production_like_env() -> dict[str, str]:
    """For the server and the worker: the database this command writes to, and settings as
    in production: DEBUG off (with it on, Django keeps every query in memory and the figures
    measure that) and persistent database connections."""
    db = connection.settings_dict
    url = (f"postgres://{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
           f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}")
    return {**os.environ, "DATABASE_URL": url, "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-secret", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING", "DATABASE_CONN_MAX_AGE": "600",
            "SECURE_SSL_REDIRECT": "0"}  # no TLS front here: answer, do not redirect


# The servers `--server` compares: production's (deploy/gunicorn.conf.py: uvicorn workers
# on config.asgi, pooled connections) and the synchronous gunicorn workers used before it.
SERVERS = {
    "production": lambda opts, port: (
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
         "--log-level", "warning"],
        {"KAUKO_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(opts["workers"]),
         "GUNICORN_ACCESS_LOG": "", "DATABASE_POOL": "true"}),
    "sync": lambda opts, port: (
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-w",
         str(opts["workers"]), "-b", f"127.0.0.1:{port}", "--log-level", "warning"], {}),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_ticks() -> list[int] | None:
    """The machine's CPU ticks so far by kind (Linux's /proc/stat), or None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    except OSError:
        return None
    return [int(x) for x in fields]


def _cpu_since(before, messages: int = 0) -> str:
    """CPU time the whole machine was busy per message (server, database and load generator
    together: they share the cores), and how much neighbours took ("steal": this is often
    a shared virtual machine, and figures only compare at a similar steal)."""
    after = _cpu_ticks()
    if before is None or after is None:
        return ""
    d = [a - b for a, b in zip(after, before, strict=True)]
    total = sum(d)
    if not total:
        return ""
    steal = f"CPU steal {100 * d[7] / total:.0f}%"
    if not messages:
        return f"; {steal}"
    busy = total - d[3] - d[4] - d[7]  # not idle, not waiting for I/O, not stolen
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    return f"; CPU busy {busy * tick_ms / messages:.1f} ms per message, {steal}"


def _wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise CommandError(f"nothing listens on port {port}")


class Command(BaseCommand):
    help = "Inbound and outbound ISO 18626 throughput and latency (needs PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=200,
                            help="Borrowing and lending requests to post messages about.")
        parser.add_argument("--messages", type=int, default=4000,
                            help="Inbound messages to post.")
        parser.add_argument("--clients", type=int, default=4,
                            help="Client threads (two per worker keeps each one busy).")
        parser.add_argument("--outbound", type=int, default=1000,
                            help="Outbound messages for the worker (0: skip).")
        parser.add_argument("--worker-pool", choices=["solo", "prefork"], default="solo",
                            help="solo: one process, one message at a time (the strict "
                                 "figure); prefork: as `make worker` starts it, one process "
                                 "per core.")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
        parser.add_argument("--server", choices=[*SERVERS, "both"], default="production",
                            help="Which server answers inbound messages; both: sync and "
                                 "production alternately, --rounds times each.")
        parser.add_argument("--rounds", type=int, default=2,
                            help="Rounds of each server with --server both.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("Point DATABASE_URL at PostgreSQL (a database of its own).")
        world = self._world(opts["requests"])
        try:
            if opts["server"] == "both":
                for _round in range(opts["rounds"]):
                    for server in SERVERS:
                        self._inbound(world, opts, server)
            else:
                self._inbound(world, opts, opts["server"])
            if opts["outbound"]:
                self._outbound(world, opts["outbound"], opts["worker_pool"])
        finally:
            self.peer.stop()

    # --- data ----------------------------------------------------------------------------------

    def _world(self, n: int):
        from tests import factories as f  # the same quick builders the tests use

        # Its SAMs are for requests the mock never made: confirmed OK all the same.
        self.peer = MockPeer(delay=0.01, confirm_any_sam=True).start()
        requester = Institution.objects.filter(code="BENCHR").first()
        if requester is None:
            self.stdout.write("Creating the benchmark institutions…")
            with transaction.atomic():
                requester, supplier = f.institution("BENCHR"), f.institution("BENCHS")
                r_setup = f.rs_setup(requester)
                f.rs_setup(supplier)
                iso_fields = {"profile_type": Partner.ProfileType.ISO18626,
                              "iso_endpoint_url": self.peer.url}
                f.partner(requester, code="BENCHS", agency_id_value="FI-BENCHS", **iso_fields)
                f.partner(supplier, code="BENCHR", agency_id_value="FI-BENCHR", **iso_fields)
                f.patron(requester, pickup_desk=r_setup.desk)
        supplier = Institution.objects.get(code="BENCHS")
        s_at_r = Partner.objects.get(institution=requester, code="BENCHS")
        r_at_s = Partner.objects.get(institution=supplier, code="BENCHR")
        Partner.objects.filter(pk__in=[s_at_r.pk, r_at_s.pk]).update(
            iso_endpoint_url=self.peer.url)
        have = BorrowingRequest.objects.filter(institution=requester).count()
        patron = Patron.objects.filter(institution=requester).first()
        if have < n:
            self.stdout.write(f"Creating {n - have} requests on each side…")
        for i in range(have, n):
            with transaction.atomic():
                br = borrowing_request_create(
                    institution=requester, patron=patron, request_type="article",
                    citation={"title": f"Bench article {i}", "article_title": "A"},
                    partners=[s_at_r])
                # Sent, without the outbox: the lending side below stands for the partner.
                rid = f"{br.number}-1"
                RotaEntry.objects.filter(request=br).update(
                    outcome=RotaEntry.Outcome.ASKED, attempt_id=rid, asked_at=timezone.now())
                BorrowingRequest.objects.filter(pk=br.pk).update(status="sent")
                lending_request_create(institution=supplier, partner=r_at_s,
                                       partner_request_id=rid, service_type="copy",
                                       citation={"title": f"Bench article {i}"}, locate=False)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh planner statistics for the new rows
        rids = list(LendingRequest.objects.filter(institution=supplier)
                    .values_list("partner_request_id", flat=True)[:n])
        return {"rids": rids, "requester": requester, "supplier": supplier,
                "s_at_r": s_at_r, "r_at_s": r_at_s}

    # --- inbound -------------------------------------------------------------------------------

    def _messages(self, rids: list[str], count: int) -> list[bytes]:
        base = datetime.datetime.now(datetime.UTC)
        out = []
        r_id, s_id = iso.AgencyId("ISIL", "FI-BENCHR"), iso.AgencyId("ISIL", "FI-BENCHS")
        for i in range(count):
            rid = rids[i % len(rids)]
            header = iso.Header(supplying_agency_id=s_id, requesting_agency_id=r_id,
                                requesting_agency_request_id=rid,
                                timestamp=base + datetime.timedelta(milliseconds=i))
            kind = i % 4
            if kind == 0:  # the borrower writes to the lender
                body = iso.RequestingAgencyMessage(header=header, action="Notification",
                                                   note=f"bench note {i}")
            elif kind == 1:  # the lender writes to the borrower
                body = iso.SupplyingAgencyMessage(
                    header=header,
                    message_info=iso.MessageInfo(reason_for_message="Notification",
                                                 note=f"bench note {i}"),
                    status_info=iso.StatusInfo(status="RequestReceived", last_change=base))
            elif kind == 2:  # the lender confirms it has the request (no change)
                body = iso.SupplyingAgencyMessage(
                    header=header,
                    message_info=iso.MessageInfo(reason_for_message="StatusChange"),
                    status_info=iso.StatusInfo(status="RequestReceived", last_change=base))
            else:  # the lender answers a status request
                body = iso.SupplyingAgencyMessage(
                    header=header,
                    message_info=iso.MessageInfo(reason_for_message="StatusRequestResponse"),
                    status_info=iso.StatusInfo(status="RequestReceived", last_change=base))
            out.append(iso.build(body, "1.2"))
        return out

    def _inbound(self, world, opts, server_name: str = "production") -> None:
        port = _free_port()
        env = _production_like_env()
        env.pop("CELERY_BROKER_URL", None)  # the mix queues nothing; keep the server alone
        command, server_env = SERVERS[server_name](opts, port)
        server = subprocess.Popen(command, cwd=ROOT, env={**env, **server_env})
        try:
            _wait_port(port)
            messages = self._messages(world["rids"], opts["messages"])
            self._post_all(port, messages[:50], 4)  # warm up both workers
            messages = self._messages(world["rids"], opts["messages"])  # fresh timestamps
            time.sleep(0.2)
            ticks = _cpu_ticks()
            started = time.perf_counter()
            latencies, errors = self._post_all(port, messages, opts["clients"])
            elapsed = time.perf_counter() - started
            cpu = _cpu_since(ticks, len(messages))
        finally:
            server.terminate()
            server.wait(10)
        latencies.sort()
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        self.stdout.write(
            f"Inbound: {len(messages)} messages in {elapsed:.2f} s = "
            f"{len(messages) / elapsed:.0f} messages/s; latency median "
            f"{statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
            f"({server_name} server, {opts['workers']} gunicorn workers, "
            f"{opts['clients']} clients, "
            f"{errors} not OK){cpu}")

    def _post_all(self, port: int, messages: list[bytes], clients: int):
        """Post every message once, from `clients` threads. The requests are written as
        bytes on a plain socket: http.client's own parsing would take CPU from the server
        on these shared cores, and measure the load generator instead."""
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        it = iter(messages)
        head = (b"POST /iso18626 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/xml\r\nConnection: close\r\nContent-Length: ")

        def client():
            mine = []
            bad = 0
            while True:
                with lock:
                    data = next(it, None)
                if data is None:
                    break
                t0 = time.perf_counter()
                with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
                    conn.sendall(b"%s%d\r\n\r\n%s" % (head, len(data), data))
                    chunks = []
                    while chunk := conn.recv(65536):
                        chunks.append(chunk)
                mine.append(time.perf_counter() - t0)
                response = b"".join(chunks)
                if not response.startswith(b"HTTP/1.1 200 ") or b">OK<" not in response:
                    bad += 1
            with lock:
                latencies.extend(mine)
                errors[0] += bad

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies, errors[0]

    # --- outbound ------------------------------------------------------------------------------

    def _outbound(self, world, count: int, pool: str) -> None:
        if not os.environ.get("CELERY_BROKER_URL"):
            self.stdout.write("Outbound: skipped (set CELERY_BROKER_URL to measure a worker).")
            return
        queue = f"kauko-bench-{os.getpid()}"
        app.conf.task_default_queue = queue
        app.conf.task_always_eager = False
        requests = list(LendingRequest.objects.filter(institution=world["supplier"])
                        .select_related("partner", "institution")[:100])
        self.stdout.write(f"Queueing {count} outbound messages on {len(requests)} requests…")
        with transaction.atomic():
            first_id = None
            for i in range(count):
                row = lending_event(request=requests[i % len(requests)],
                                                 event="notification", note=f"out {i}")
                first_id = first_id or row.pk
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker",
             f"--pool={pool}", f"--concurrency={os.cpu_count() if pool == 'prefork' else 1}",
             "-Q", queue, "--without-mingle", "--without-gossip",
             "--loglevel=WARNING"], cwd=ROOT, env=_production_like_env())
        ticks = _cpu_ticks()
        try:
            rows = OutboxMessage.objects.filter(pk__gte=first_id)
            end = time.monotonic() + 120
            while time.monotonic() < end and rows.exclude(state="sent").exists():
                time.sleep(0.25)
        finally:
            cpu = _cpu_since(ticks)  # the span includes the worker's start
            worker.terminate()
            worker.wait(15)
        sent = list(rows.filter(state="sent").order_by("sent_at")
                    .values_list("sent_at", flat=True))
        if len(sent) < 2:
            raise CommandError("The worker delivered nothing: is the broker running?")
        span = (sent[-1] - sent[0]).total_seconds()
        self.stdout.write(
            f"Outbound: {len(sent)} of {count} messages delivered to the mock peer by one "
            f"{pool} worker in {span:.2f} s = {(len(sent) - 1) / span:.0f} messages/s{cpu}")
