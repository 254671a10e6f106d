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
                                                    note="MOCK:ISIL:MOCK:UNFILLED"))
    return iso.build(body, version)


@pytest.fixture
def mockpeer_process():
    started = []

    def start(*args):
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "iso18626_mockpeer", "--port", str(port),
             "--peer-url", "http://127.0.0.1:9/iso18626", "--delay", "30", *args],
            cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "kauko.settings"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if proc.poll() is not None:
                pytest.fail(f"the command stopped: {proc.stderr.read()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return port
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
    port = mockpeer_process("--schema-version", version, "--agency", "ISIL:MOCK")
    answer = iso.parse(_post(port, _request(version)))
    assert answer.kind == iso.MessageKind.REQUEST_CONFIRMATION
    assert answer.body.is_ok
    assert answer.version == iso.Version(version)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/iso18626", timeout=10) as seen:
        assert "CMD-1" in seen.read().decode()  # GET lists what it saw


def test_the_command_explains_its_options():
    out = subprocess.run([sys.executable, "manage.py", "iso18626_mockpeer", "--help"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--schema-version" in out.stdout and "--peer-url" in out.stdout
