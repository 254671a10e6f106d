"""A mock ISO 18626 peer that speaks CrossLink illmock's scenario language.

As a *supplier* it answers each request as its scenario says. The scenario comes from a
token ``MOCK:<supplier symbol>:<SCENARIO>`` in the request's note (the symbol must be the
supplyingAgencyId value the request was sent to) or else from
``bibliographicInfo/supplierUniqueRecordId``; without either the request is UNFILLED.

=============================  ==================================================
LOANED / UNFILLED / WILLSUPPLY  that status
WILLSUPPLY_LOANED               WillSupply, then Loaned (also _UNFILLED, _RECALLED)
LOANED_OVERDUE / _RECALLED      Loaned; Overdue / Recalled once the item is Received
COMPLETED                       CopyCompleted for a copy, LoanCompleted otherwise
ERROR                           an ERROR confirmation (UnrecognisedDataValue)
HTTP-ERROR-400 / -500           a plain HTTP 400 / 500
RETRY:COND_X, RETRY:COST_X,     RetryPossible (LoanCondition / CostExceedsMaxCost /
RETRY:ONLOAN_X                  OnLoan); a Retry request then gets scenario X
=============================  ==================================================

It reacts to the requester like illmock: Cancel gets CancelResponse Y (N once loaned),
Renew gets RenewResponse Y, Received triggers the pending Overdue / Recalled, and
ShippedReturn gets LoanCompleted.

As a *requester* (`send_request`) it asks a supplier, confirms what comes back, sends
Received when the item is loaned and ShippedReturn after; the note tokens ``#CANCEL#`` and
``#RENEW#`` make it cancel after WillSupply or renew once before returning.

Standard library + the codec only; `MockPeer(...).start()` serves on a free port in a
thread (tests), `python manage.py iso18626_mockpeer` in the foreground.
"""

from __future__ import annotations

import collections
import datetime
import itertools
import logging
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ill import iso18626 as iso
from ill.outbox.wire import describe

logger = logging.getLogger(__name__)
St, R = iso.Status, iso.ReasonForMessage

SCENARIOS = {
    "WILLSUPPLY": [St.WILL_SUPPLY],
    "WILLSUPPLY_LOANED": [St.WILL_SUPPLY, St.LOANED],
    "WILLSUPPLY_LOANED_RECALLED": [St.WILL_SUPPLY, St.LOANED],
    "WILLSUPPLY_LOANED_OVERDUE": [St.WILL_SUPPLY, St.LOANED],
    "WILLSUPPLY_UNFILLED": [St.WILL_SUPPLY, St.UNFILLED],
    "UNFILLED": [St.UNFILLED],
    "LOANED": [St.LOANED],
    "LOANED_RECALLED": [St.LOANED],
    "LOANED_OVERDUE": [St.LOANED],
    "RETRY:COST": [St.RETRY_POSSIBLE],
    "RETRY:ONLOAN": [St.RETRY_POSSIBLE],
    "RETRY:COND": [St.RETRY_POSSIBLE],
}
REASON_RETRY = {"RETRY:COST": "CostExceedsMaxCost", "RETRY:ONLOAN": "OnLoan",
                "RETRY:COND": "LoanCondition"}
TERMINAL = {St.LOAN_COMPLETED, St.UNFILLED, St.RETRY_POSSIBLE, St.COPY_COMPLETED}


def scenario_for(request: iso.Request) -> str:
    """illmock's choice of scenario for a request (see the module docstring)."""
    scenario = ""
    note = (request.service_info.note if request.service_info else None) or ""
    start = note.find("MOCK:")
    if start >= 0:
        value = note[start + 5:]
        for i, ch in enumerate(value):
            if ch in "#,; \t\n\r":
                value = value[:i]
                break
        symbol, sep, rest = value.partition(":")
        supplier = request.header.supplying_agency_id
        if sep and supplier is not None and supplier.value == symbol:
            scenario = rest
    scenario = scenario or request.bibliographic_info.supplier_unique_record_id or ""
    if not scenario:
        return "UNFILLED"
    if not scenario.startswith("RETRY"):
        return scenario
    head, _sep, after = scenario.partition("_")
    is_retry = request.service_info is not None and \
        request.service_info.request_type == iso.RequestType.RETRY
    if is_retry:
        return after  # "" : the retry ends the scenario
    return head


@dataclass
class _Supplied:
    header: iso.Header
    version: str
    url: str
    copy: bool
    overdue: bool = False
    recalled: bool = False
    loaned: bool = False
    first: bool = True
    reason_retry: str = ""
    supplier_request_id: str = ""


@dataclass
class _Requested:
    header: iso.Header
    version: str
    url: str
    note: str
    renewed: bool = False
    done: bool = False
    statuses: list = field(default_factory=list)


class MockPeer:
    def __init__(self, *, peer_url: str = "", host: str = "127.0.0.1", port: int = 0,
                 delay: float = 0.05, agency: tuple[str, str] = ("ISIL", "MOCK"),
                 version: str = "1.2", echo=None):
        self.peer_url = peer_url
        # Called with each log line as it happens (the command prints them).
        self.echo = echo
        self.delay = delay
        self.agency = iso.AgencyId(agency[0], agency[1])
        self.version = version
        self.supplied: dict[str, _Supplied] = {}
        self.requested: dict[str, _Requested] = {}
        # (direction, summary) of the latest messages: a mock left running for days must
        # not grow without end.
        self.log: collections.deque[tuple[str, str]] = collections.deque(maxlen=1000)
        self.lock = threading.RLock()
        self._post_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._last_stamp = datetime.datetime.now(datetime.UTC)
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/iso18626"

    def start(self) -> MockPeer:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if predicate(self):
                    return True
            time.sleep(0.02)
        return False

    def _handler_class(self):
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                status, body, ctype = peer.handle(self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                with peer.lock:
                    text = "\n".join(f"{d} {s}" for d, s in list(peer.log)[-200:]) + "\n"
                body = text.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                logger.debug("mockpeer: " + fmt, *args)

        return Handler

    # --- receiving ---------------------------------------------------------------------------

    def handle(self, data: bytes) -> tuple[int, bytes, str]:
        try:
            message = iso.parse(data)
        except iso.Iso18626Error as exc:
            conf = iso.error_confirmation_for(exc)
            if conf is None:
                return 400, str(exc).encode(), "text/plain"
            return 200, iso.build(conf, exc.version or "1.2"), "application/xml"
        body = message.body
        self._log("in", body)
        if isinstance(body, iso.Request):
            return self._on_request(message)
        if isinstance(body, iso.RequestingAgencyMessage):
            self._later(self._on_ram, body, message.version)
        elif isinstance(body, iso.SupplyingAgencyMessage):
            with self.lock:  # a thread only for a request it asked for and may react to
                ours = body.header.requesting_agency_request_id in self.requested
            if ours:
                self._later(self._on_sam, body, message.version)
        else:
            return 400, b"confirmations are not posted", "text/plain"
        return 200, iso.build(iso.confirmation_for(message), message.version), "application/xml"

    def _key(self, header: iso.Header) -> str:
        return "/".join(str(x) for x in (header.supplying_agency_id,
                                          header.requesting_agency_id,
                                          header.requesting_agency_request_id))

    def _on_request(self, message: iso.Message):
        request: iso.Request = message.body
        key = self._key(request.header)
        with self.lock:
            if key in self.supplied:
                return self._error(message, "RequestingAgencyRequestId already exists")
        scenario = scenario_for(request)
        if scenario == "ERROR":
            return self._error(message, "MOCK ERROR")
        if scenario.startswith("HTTP-ERROR-"):
            code = int(scenario.rsplit("-", 1)[1])
            return code, f"MOCK {scenario}".encode(), "text/plain"
        copy = bool(request.service_info and request.service_info.service_type == "Copy")
        if scenario == "COMPLETED":
            statuses = [St.COPY_COMPLETED if copy else St.LOAN_COMPLETED]
        elif scenario == "":
            statuses = []
        else:
            statuses = SCENARIOS.get(scenario, [St.UNFILLED])
        url = self.peer_url
        for address in (request.requesting_agency_info.addresses
                        if request.requesting_agency_info else []):
            data = getattr(address, "electronic_address_data", "")
            if data.startswith(("http://", "https://")):
                url = data
                break
        state = _Supplied(header=request.header, version=message.version, url=url, copy=copy,
                          overdue=scenario.endswith("OVERDUE"),
                          recalled=scenario.endswith("RECALLED"),
                          reason_retry=REASON_RETRY.get(scenario, ""),
                          supplier_request_id=f"MOCK-{next(self._ids)}")
        with self.lock:
            self.supplied[key] = state
        if statuses:
            self._later(self._supply, key, list(statuses))
        return 200, iso.build(iso.confirmation_for(message), message.version), "application/xml"

    def _error(self, message, text):
        conf = iso.confirmation_for(message, "ERROR", iso.ErrorType.UNRECOGNISED_DATA_VALUE, text)
        return 200, iso.build(conf, message.version), "application/xml"

    # --- acting as supplier ---------------------------------------------------------------------

    def _supply(self, key: str, statuses: list) -> None:
        with self.lock:
            state = self.supplied.get(key)
        if state is None:
            return  # cancelled or finished meanwhile
        status = statuses[0]
        info = iso.MessageInfo(reason_for_message=R.REQUEST_RESPONSE if state.first
                               else R.STATUS_CHANGE)
        state.first = False
        status_info = iso.StatusInfo(status=status, last_change=self._stamp())
        delivery = retry = None
        if status == St.RETRY_POSSIBLE:
            info.reason_retry = state.reason_retry
            if state.reason_retry == "CostExceedsMaxCost":
                info.reason_unfilled = state.reason_retry
                retry = iso.RetryInfo(offered_costs=[iso.Costs(currency_code="USD",
                                                               monetary_value=Decimal(35))])
            elif state.reason_retry == "OnLoan":
                retry = iso.RetryInfo(retry_after=self._stamp())
            else:
                delivery = iso.DeliveryInfo(date_sent=self._stamp(),
                                            loan_conditions=["NoReproduction"])
        elif status == St.LOANED:
            state.loaned = True
            status_info.due_date = self._stamp() + datetime.timedelta(days=14)
            item = "http://example.com/123456789" if state.copy else "123456789"
            delivery = iso.DeliveryInfo(date_sent=self._stamp(), item_ids=[item],
                                        delivery_method="URL" if state.copy else "Mail")
        elif status == St.COPY_COMPLETED:
            delivery = iso.DeliveryInfo(date_sent=self._stamp(),
                                        url="http://example.com/123456789")
            info.note = "http://example.com/123456789"
        if status in TERMINAL:
            with self.lock:
                self.supplied.pop(key, None)
        ok = self._send_sam(state, info, status_info, delivery=delivery, retry=retry)
        if ok and len(statuses) > 1:
            self._later(self._supply, key, statuses[1:])

    def _send_sam(self, state: _Supplied, info, status_info, delivery=None, retry=None) -> bool:
        header = iso.Header(supplying_agency_id=state.header.supplying_agency_id,
                            requesting_agency_id=state.header.requesting_agency_id,
                            requesting_agency_request_id=state.header.requesting_agency_request_id,
                            supplying_agency_request_id=state.supplier_request_id,
                            timestamp=self._stamp())
        body = iso.SupplyingAgencyMessage(header=header, message_info=info,
                                          status_info=status_info, delivery_info=delivery,
                                          retry_info=retry)
        return self._post(state.url, body, state.version)

    def _on_ram(self, body: iso.RequestingAgencyMessage, version: str) -> None:
        key = self._key(body.header)
        with self.lock:
            state = self.supplied.get(key)
        if state is None:
            return
        A = iso.Action
        if body.action == A.CANCEL:
            yes = not state.loaned
            if yes:
                with self.lock:
                    self.supplied.pop(key, None)
            self._send_sam(state, iso.MessageInfo(reason_for_message=R.CANCEL_RESPONSE,
                                                  answer_yes_no="Y" if yes else "N"),
                           iso.StatusInfo(status=St.CANCELLED if yes else St.LOANED,
                                          last_change=self._stamp()))
        elif body.action == A.RENEW:
            self._send_sam(state, iso.MessageInfo(reason_for_message=R.RENEW_RESPONSE,
                                                  answer_yes_no="Y"),
                           iso.StatusInfo(status=St.LOANED, last_change=self._stamp()))
        elif body.action == A.RECEIVED:
            for flag, status in (("overdue", St.OVERDUE), ("recalled", St.RECALLED)):
                if getattr(state, flag):
                    setattr(state, flag, False)
                    self._send_sam(state, iso.MessageInfo(reason_for_message=R.STATUS_CHANGE),
                                   iso.StatusInfo(status=status, last_change=self._stamp()))
        elif body.action == A.SHIPPED_RETURN:
            with self.lock:
                self.supplied.pop(key, None)
            self._send_sam(state, iso.MessageInfo(reason_for_message=R.STATUS_CHANGE),
                           iso.StatusInfo(status=St.LOAN_COMPLETED, last_change=self._stamp()))

    # --- acting as requester ----------------------------------------------------------------------

    def send_request(self, *, supplier: iso.AgencyId, title: str, note: str = "",
                     service_type: str = "Loan", request_id: str | None = None,
                     url: str | None = None, version: str | None = None,
                     record_id: str | None = None) -> str:
        """Ask `supplier` (at `url`, default the peer URL) for `title`; returns the id."""
        rid = request_id or f"MOCKREQ-{int(time.time())}-{next(self._ids)}"
        header = iso.Header(supplying_agency_id=supplier, requesting_agency_id=self.agency,
                            requesting_agency_request_id=rid, timestamp=self._stamp())
        state = _Requested(header=header, version=version or self.version,
                           url=url or self.peer_url, note=note)
        with self.lock:
            self.requested[rid] = state
        body = iso.Request(
            header=header,
            bibliographic_info=iso.BibliographicInfo(title=title,
                                                     supplier_unique_record_id=record_id),
            service_info=iso.ServiceInfo(request_type=iso.RequestType.NEW,
                                         service_type=service_type, note=note or None))
        self._post(state.url, body, state.version)
        return rid

    def send_action(self, rid: str, action: str, note: str = "") -> bool:
        with self.lock:
            state = self.requested[rid]
        header = iso.Header(supplying_agency_id=state.header.supplying_agency_id,
                            requesting_agency_id=self.agency, requesting_agency_request_id=rid,
                            timestamp=self._stamp())
        return self._post(state.url, iso.RequestingAgencyMessage(
            header=header, action=action, note=note or None), state.version)

    def _on_sam(self, body: iso.SupplyingAgencyMessage, version: str) -> None:
        rid = body.header.requesting_agency_request_id
        with self.lock:
            state = self.requested.get(rid)
        if state is None:
            return
        status = body.status_info.status
        reason = body.message_info.reason_for_message
        with self.lock:
            state.statuses.append((str(reason), str(status or "")))
        A = iso.Action
        if status == St.WILL_SUPPLY and "#CANCEL#" in state.note:
            self.send_action(rid, A.CANCEL)
        elif status == St.LOANED and reason in (R.REQUEST_RESPONSE, R.STATUS_CHANGE):
            self.send_action(rid, A.RECEIVED)
            if "#RENEW#" in state.note and not state.renewed:
                state.renewed = True
                self.send_action(rid, A.RENEW)
            else:
                self.send_action(rid, A.SHIPPED_RETURN)
        elif reason == R.RENEW_RESPONSE:
            self.send_action(rid, A.SHIPPED_RETURN)
        elif status in (St.LOAN_COMPLETED, St.COPY_COMPLETED, St.UNFILLED, St.CANCELLED):
            state.done = True

    # --- plumbing ----------------------------------------------------------------------------------

    def _stamp(self) -> datetime.datetime:
        # Strictly increasing: peers key idempotency on the timestamp.
        with self.lock:
            now = datetime.datetime.now(datetime.UTC).replace(
                microsecond=datetime.datetime.now(datetime.UTC).microsecond // 1000 * 1000)
            if now <= self._last_stamp:
                now = self._last_stamp + datetime.timedelta(milliseconds=1)
            self._last_stamp = now
            return now

    def _later(self, fn, *args) -> None:
        def run():
            time.sleep(self.delay)
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - a mock must keep serving
                logger.exception("mockpeer: %s failed", fn.__name__)

        threading.Thread(target=run, daemon=True).start()

    def _log(self, direction: str, body) -> None:
        try:
            text = describe(body)
        except Exception:  # noqa: BLE001 - outside Django's translation set-up
            text = body.kind.value
        rid = getattr(body.header, "requesting_agency_request_id", "")
        self._note(direction, f"{rid} {text}")

    def _note(self, direction: str, text: str) -> None:
        with self.lock:
            self.log.append((direction, text))
        if self.echo is not None:
            self.echo(f"{direction:>5} {text}")

    def _post(self, url: str, body, version: str) -> bool:
        data = iso.build(body, version)
        self._log("out", body)
        answer = None
        # One message at a time, a few tries on a 5xx or a network error: the mock should
        # exercise the peer's logic, not its behaviour under a burst of parallel posts.
        with self._post_lock:
            for attempt in range(3):
                req = urllib.request.Request(url, data=data, method="POST",
                                             headers={"Content-Type": "application/xml"})
                try:
                    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
                        answer = iso.parse(response.read(), strict=False)
                    break
                except Exception as exc:  # noqa: BLE001
                    logger.warning("mockpeer: posting to %s failed: %s", url, exc)
                    self._note("error", f"{url}: {exc}")
                    status = getattr(exc, "code", 500)
                    if status < 500 or attempt == 2:
                        return False
                    time.sleep(0.2 * (attempt + 1))
        if answer is None:
            return False
        ok = answer.kind.is_confirmation and answer.body.is_ok
        if not ok:
            self._note("error", f"refused: {answer.body.error_data}")
        return ok
