"""`manage.py iso18626_mockpeer` as a user starts it: a process that answers on its port."""

import datetime
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ill import iso18626 as iso

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(version: str) -> bytes:
    header = iso.Header(
        supplying_agency_id=iso.AgencyId("ISIL", "MOCK"),
        requesting_agency_id=iso.AgencyId("ISIL", "FI-TEST"),
        requesting_agency_request_id="CMD-1", timestamp=datetime.datetime.now(datetime.UTC))
    body = iso.Request(header=header,
                       bibliographic_info=iso.BibliographicInfo(title="A book"),
                       service_info=iso.ServiceInfo(service_type="Loan",
                                                    note="MOCK:MOCK:UNFILLED"))
    return iso.build(body, version)


@pytest.fixture
def mockpeer_process():
    started = []

    def start(*args):
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-u", "manage.py", "iso18626_mockpeer", "--port", str(port),
             "--peer-url", "http://127.0.0.1:9/iso18626", "--delay", "0.1", *args],
            cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if proc.poll() is not None:
                pytest.fail(f"the command stopped: {proc.stderr.read()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return port, proc
            time.sleep(0.1)
        pytest.fail("the mock peer did not start listening")

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


def _post(port: int, data: bytes) -> bytes:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/iso18626", data=data,
                                 headers={"Content-Type": "application/xml"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 - local test
        assert response.status == 200
        return response.read()


@pytest.mark.parametrize("version", ["1.2", "2021"])
def test_the_command_serves_and_confirms_a_request_in_its_schema_version(
        mockpeer_process, version):
    port, proc = mockpeer_process("--schema-version", version, "--agency", "ISIL:MOCK")
    answer = iso.parse(_post(port, _request(version)))
    assert answer.kind == iso.MessageKind.REQUEST_CONFIRMATION
    assert answer.body.is_ok
    assert answer.version == iso.Version(version)
    # Then it answers as the scenario says (Unfilled) to its peer, which is down here: GET
    # lists what it saw and tried, and the command prints the same as it goes.
    end = time.monotonic() + 20
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/iso18626", timeout=10) as seen:
            log = seen.read().decode()
        if "error" in log or time.monotonic() > end:
            break
        time.sleep(0.2)
    assert "in CMD-1" in log and "out CMD-1" in log and "Unfilled" in log
    assert "error http://127.0.0.1:9/iso18626" in log
    proc.terminate()
    printed, _errors = proc.communicate(timeout=10)
    assert "in CMD-1" in printed and "out CMD-1" in printed and "error" in printed


def test_the_command_explains_its_options():
    out = subprocess.run([sys.executable, "manage.py", "iso18626_mockpeer", "--help"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--schema-version" in out.stdout and "--peer-url" in out.stdout
