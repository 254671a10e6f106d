"""Production smoke test (issue 17): Kauko started the README's production way, then one
ISO 18626 request from one institution to another, then everything stopped.

- settings from deploy/kauko.env (DEBUG off, HTTPS settings, a database pool), with only
  what a test host must change (a random secret, loopback addresses, a separate PostgreSQL
  database `kauko_smoke` and Redis database 15, files in a temporary folder);
- `migrate`, `collectstatic`, `check --deploy --fail-level WARNING` (must be clean);
- two institutions made with `create_institution --noinput`, then wired to each other as
  ISO 18626 partners (the tests' factories do the libraries, partners, staff and a request);
- the web server, the Celery worker and beat started with the ExecStart lines of
  deploy/systemd/*.service;
- a staff login and "Send to partner" over HTTP (as nginx would pass it: X-Forwarded-Proto
  https), then the other institution's staff see the request in their lending list.

Bounded: every step has a time limit and the whole run stops itself after DEADLINE seconds.
Run by `make smoke` (and .ci/run); needs PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEADLINE = time.monotonic() + 420
DB = "kauko_smoke"
PG = ["-h", "127.0.0.1", "-U", "postgres"]
TITLE = f"Smoke test book {secrets.randbelow(10**6)}"


def log(message: str) -> None:
    print(f"smoke: {message}", flush=True)


def left(limit: float) -> float:
    remaining = DEADLINE - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the smoke test ran out of time")
    return min(limit, remaining)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(port: int, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DEBUG")}
    for line in (ROOT / "deploy" / "kauko.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            env[key] = value
    env.update({
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "KAUKO_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "STATIC_ROOT": str(tmp / "static"), "MEDIA_ROOT": str(tmp / "media"),
        "EMAIL_BACKEND": "file", "EMAIL_FILE_PATH": str(tmp / "mail"),
        "KAUKO_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
        # Both institutions live on this deployment and reach each other's endpoint on
        # loopback, without the TLS front a real partner goes through.
        "SECURE_REDIRECT_EXEMPT": "^healthz$,^iso18626$",
    })
    return env


def manage(env, *args, timeout=180, **kw) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=left(timeout), **kw)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n"
                           f"{result.stderr}")
    return result.stdout + result.stderr


def unit_command(name: str) -> list[str]:
    text = (ROOT / "deploy" / "systemd" / name).read_text()
    command = re.search(r"^ExecStart=(.+)$", text, re.M).group(1)
    return [part.replace("/srv/kauko/.venv/bin/", f"{BIN}/") for part in shlex.split(command)]


SETUP = """
from kauko import roles
from kauko.models import Institution
from partners.models import Partner
from tests import factories as f
from ill.models import BorrowingRequest

url = "{base}/iso18626"
ota, kaisa = Institution.objects.get(code="OTA"), Institution.objects.get(code="KAISA")
ota_setup, kaisa_setup = f.rs_setup(ota), f.rs_setup(kaisa)
iso = dict(profile_type=Partner.ProfileType.ISO18626, iso_version="1.2",
           agency_id_type="ISIL", mail_delay_days=2, iso_endpoint_url=url)
kaisa_at_ota = f.partner(ota, code="KAISA", agency_id_value="FI-KAISA", **iso)
f.partner(kaisa, code="OTA", agency_id_value="FI-OTA", **iso)
patron = f.patron(ota, pickup_desk=ota_setup.desk, email="patron@example.org")
f.item(kaisa_setup.stacks, title="{title}", barcodes=("KAISA-0001",))
request = f.borrowing_request(ota, setup=ota_setup, patron_=patron, partners=[kaisa_at_ota],
                              citation={{"title": "{title}", "author": "Smoke, Test"}})
f.staff(ota, roles.RESOURCE_SHARING, username="ota-rs")
f.staff(kaisa, roles.RESOURCE_SHARING, username="kaisa-rs")
request = BorrowingRequest.objects.get(pk=request.pk)
print("REQUEST", request.pk, request.version, request.status)
"""


class Browser:
    """Just enough of a browser behind nginx: cookies (Secure ones too, since the proxy
    says https) and the CSRF token."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=left(20))
        origin = f"https://127.0.0.1:{self.port}"
        headers = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
            body = urllib.parse.urlencode(form)
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": origin, "Referer": origin + path})
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _sep, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, response.getheader("Location", ""), text

    def login(self, username: str) -> None:
        self.request("GET", "/login/")
        status, location, _text = self.request(
            "POST", "/login/", {"username": username, "password": "pw-for-tests-only"})
        assert status == 302 and "/login/" not in location, f"login failed: {status}"


def wait_for(check, what: str, limit: float) -> None:
    end = time.monotonic() + left(limit)
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def main() -> int:
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="kauko-smoke-"))
    env = production_env(port, tmp)
    processes: list[subprocess.Popen] = []
    subprocess.run(["dropdb", *PG, "--if-exists", DB], check=True, timeout=left(30))
    subprocess.run(["createdb", *PG, DB], check=True, timeout=left(30))
    try:
        log("migrate, collectstatic, check --deploy")
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        out = manage(env, "check", "--deploy", "--fail-level", "WARNING")
        assert "no issues" in out, out
        log("two institutions with create_institution --noinput")
        for code in ("OTA", "KAISA"):
            manage({**env, "KAUKO_ADMIN_PASSWORD": secrets.token_urlsafe(16)},
                   "create_institution", "--noinput", "--code", code, "--name",
                   f"{code} library", "--agency-id", f"FI-{code}", "--admin-username",
                   f"{code.lower()}-admin", "--admin-email", f"admin@{code.lower()}.example.org")
        out = manage(env, "shell", "-c", SETUP.format(base=env["KAUKO_BASE_URL"], title=TITLE))
        pk, version, status = re.search(r"REQUEST (\d+) (\d+) (\w+)", out).groups()
        log(f"borrowing request {pk} is {status}; starting web, worker and beat")
        logs = {}
        for unit in ("kauko-web.service", "kauko-worker.service", "kauko-beat.service"):
            logs[unit] = open(tmp / f"{unit}.log", "w")  # noqa: SIM115 (closed below)
            processes.append(subprocess.Popen(
                unit_command(unit), cwd=ROOT, env=env, stdout=logs[unit],
                stderr=subprocess.STDOUT, start_new_session=True))

        def healthy():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
                return conn.getresponse().status == 200
            except OSError:
                return False
        wait_for(healthy, "/healthz", 60)

        ota = Browser(port)
        ota.login("ota-rs")
        log("logged in as OTA's staff; sending the request to KAISA over ISO 18626")
        status, location, _text = ota.request("POST", f"/borrowing/{pk}/send/",
                                              {"send-version": version})
        assert status == 302, status
        _s, _l, page = ota.request("GET", location)
        assert "done" in page, "the send was refused"

        kaisa = Browser(port)
        kaisa.login("kaisa-rs")

        def arrived():
            _s, _l, listing = kaisa.request("GET", "/lending/?" + urllib.parse.urlencode(
                {"q": TITLE}))
            return TITLE in listing
        wait_for(arrived, "the request in KAISA's lending list", 90)
        assert all(p.poll() is None for p in processes), "a service stopped by itself"
        log("KAISA's staff see the request: 1 passed, 0 failed")
        return 0
    except BaseException:
        for unit, handle in locals().get("logs", {}).items():
            handle.flush()
            print(f"--- {unit} (last lines)\n" + "\n".join(
                (tmp / f"{unit}.log").read_text().splitlines()[-40:]), file=sys.stderr)
        raise
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", "15", "flushdb"],
                       capture_output=True, timeout=10)
        subprocess.run(["dropdb", *PG, "--if-exists", DB], timeout=30)
        log("everything stopped")


if __name__ == "__main__":
    sys.exit(main())
