"""A mock ISO 18626 peer that behaves like CrossLink's illmock (see ../shared/iso18626/ILLMOCK.md).

As a *supplier* it answers each request as its scenario says. The scenario comes from a
token ``MOCK:<supplier symbol>:<SCENARIO>`` in the request's note (the symbol must be the
supplyingAgencyId value the request was sent to) or else from
``bibliographicInfo/supplierUniqueRecordId``; without either the request is UNFILLED, and an
unknown scenario is Unfilled too. The first message has reason RequestResponse, later ones
StatusChange.

===============================  ==================================================
LOANED / UNFILLED / WILLSUPPLY    that status
WILLSUPPLY_LOANED                 WillSupply, then Loaned (also _UNFILLED, _RECALLED, _OVERDUE)
LOANED_OVERDUE / _RECALLED        Loaned; Overdue / Recalled once the item is Received
COMPLETED                         CopyCompleted (no deliveryInfo) for a copy, LoanCompleted
                                  otherwise: the first and only message
ERROR                             an ERROR confirmation (UnrecognisedDataValue "MOCK ERROR")
HTTP-ERROR-400 / -500             a plain HTTP 400 / 500
RETRY:COND_X                      RetryPossible LoanCondition, loanCondition NoReproduction
RETRY:COST_X                      RetryPossible CostExceedsMaxCost (also as reasonUnfilled),
                                  offeredCosts 35 USD
RETRY:ONLOAN_X                    RetryPossible OnLoan, retryAfter now
RETRY:NOTFOUNDASCITED_X           RetryPossible NotFoundAsCited, deliveryInfo/itemId 123456789
                                  (a Retry request then runs scenario X)
===============================  ==================================================

Loaned is delivered by Mail (itemId ``123456789``) when a physical address ranks first in
the request's requestedDeliveryInfo, by Email / FTP for such electronic addresses, else by
URL (itemId ``http://example.com/123456789``, format PDF) -- even for a loan. Every
deliveryInfo has Go's zero dateSent. Any RAM is confirmed OK with its action echoed, also
for a transaction it does not hold (then ignored); Cancel gets CancelResponse Y (N once
loaned), Renew gets RenewResponse Y Loaned without a due date, Received triggers the pending
Overdue / Recalled, and ShippedReturn gets LoanCompleted. A request id already in progress
is answered ERROR.

As a *requester* (`send_request`, or a request posted with requestSubType PatronRequest) it
asks a supplier and follows its answers: Loaned → Received, then (once the confirmation
echoes the action) ShippedReturn; RetryPossible → a Retry request under a new id (with the
offered cost as its maximum); terminal statuses end the flow; a Notification is ignored.
A note that is exactly one of these flags changes that:

``#CANCEL#``  Cancel on the first answer;      ``#RENEW#``  Renew on Overdue, ShippedReturn
``#RECALL#``  no ShippedReturn until Recalled;               once the Renew is confirmed;
``#RETRYKEEPID#``  the Retry keeps the id;     ``#RETRYBIBID:V#``  the Retry asks for record V.

A SAM for an id it does not hold is answered ERROR ``non-existing RequestingAgencyRequestId``.

Standard library + the codec only; `MockPeer(...).start()` serves on a free port in a
thread (tests), `python manage.py iso18626_mockpeer` in the foreground.
"""

from __future__ import annotations

import collections
import dataclasses
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
    "RETRY:NOTFOUNDASCITED": [St.RETRY_POSSIBLE],
}
REASON_RETRY = {"RETRY:COST": "CostExceedsMaxCost", "RETRY:ONLOAN": "OnLoan",
                "RETRY:COND": "LoanCondition", "RETRY:NOTFOUNDASCITED": "NotFoundAsCited"}
TERMINAL = {St.LOAN_COMPLETED, St.UNFILLED, St.RETRY_POSSIBLE, St.COPY_COMPLETED}
#: Go's zero time.Time: illmock never sets deliveryInfo/dateSent.
GO_ZERO = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)
#: What illmock sends per delivery method: (itemId, deliveredFormat for a loan / a copy).
DELIVERY = {
    "URL": ("http://example.com/123456789", "PDF", "PDF"),
    "Email": ("123456789", "PDF", "PDF"),
    "FTP": ("ftp://ftp.example.com/1234567889", "PDF", "PDF"),
    "Mail": ("123456789", "Printed", "PaperCopy"),
}
FLAGS = ("#CANCEL#", "#RENEW#", "#RECALL#", "#RETRYKEEPID#")


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


def delivery_method_for(request: iso.Request) -> str:
    """illmock's delivery method: that of the first-ranked usable requested address."""
    method, best = "URL", None
    for info in request.requested_delivery_info:
        order = info.sort_order if info.sort_order is not None else 0
        if best is not None and order >= best:
            continue
        address = info.address
        if isinstance(address, iso.PhysicalAddress) and address.line1:
            method, best = "Mail", order
        elif isinstance(address, iso.ElectronicAddress):
            kind = str(address.electronic_address_type)
            if kind in ("Email", "FTP"):
                method, best = kind, order
    return method


@dataclass
class _Supplied:
    header: iso.Header
    version: str
    url: str
    copy: bool
    delivery: str = "URL"
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
    request: iso.Request | None = None
    cancel: bool = False
    renew: bool = False
    recall: bool = False
    retry_keep_id: bool = False
    retry_bib_id: str = ""
    received: bool = False
    done: bool = False
    #: Every id the request went by (a Retry gets a new one unless #RETRYKEEPID#).
    ids: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    #: Actions sent and confirmed with the action echoed.
    actions: list = field(default_factory=list)


class MockPeer:
    def __init__(self, *, peer_url: str = "", host: str = "127.0.0.1", port: int = 0,
                 delay: float = 0.05, agency: tuple[str, str] = ("ISIL", "MOCK"),
                 version: str = "1.2", echo=None, confirm_any_sam: bool = False):
        self.peer_url = peer_url
        # illmock answers a SAM for a request it never made with ERROR; a benchmark that
        # posts SAMs for its own requests wants them confirmed OK.
        self.confirm_any_sam = confirm_any_sam
        # Called with each log line as it happens (the command prints them).
        self.echo = echo
        self.delay = delay
        self.agency = iso.AgencyId(agency[0], agency[1])
        self.version = version
        self.supplied: dict[str, _Supplied] = {}
        # Requests it asked for and still follows, by their current id (illmock's state) ...
        self.requested: dict[str, _Requested] = {}
        # ... and all it ever made, by their first id (for tests and the log).
        self.requests_made: dict[str, _Requested] = {}
        # (direction, summary) of the latest messages: a mock left running for days must
        # not grow without end.
        self.log: collections.deque[tuple[str, str]] = collections.deque(maxlen=1000)
        # (direction, message body) likewise, for tests that look inside.
        self.bodies: collections.deque[tuple[str, object]] = collections.deque(maxlen=1000)
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
            subtypes = body.service_info.request_sub_types if body.service_info else []
            if iso.RequestSubType.PATRON_REQUEST in subtypes:
                return self._on_patron_request(message)
            return self._on_request(message)
        if isinstance(body, iso.RequestingAgencyMessage):
            if problem := self._invalid_header(body.header):
                return self._error(message, problem)
            # Confirmed OK (action echoed) also when it holds no such transaction: then
            # nothing more happens.
            self._later(self._on_ram, body, message.version, share=0.3)
        elif isinstance(body, iso.SupplyingAgencyMessage):
            if problem := self._invalid_header(body.header):
                return self._error(message, problem)
            with self.lock:
                ours = body.header.requesting_agency_request_id in self.requested
            if not ours and not self.confirm_any_sam:
                return self._error(message, "non-existing RequestingAgencyRequestId")
            # Its reactions are decided now, in the order the messages come.
            self._on_sam(body, message.version)
        else:
            return 400, b"confirmations are not posted", "text/plain"
        return 200, iso.build(iso.confirmation_for(message), message.version), "application/xml"

    def _key(self, header: iso.Header) -> str:
        return "/".join(str(x) for x in (header.supplying_agency_id,
                                          header.requesting_agency_id,
                                          header.requesting_agency_request_id))

    @staticmethod
    def _invalid_header(header: iso.Header) -> str:
        """illmock's header check: the ids it keys its state on must be there."""
        if not header.requesting_agency_request_id:
            return "requestingAgencyRequestId cannot be empty"
        for name, agency in (("requestingAgencyId", header.requesting_agency_id),
                             ("supplyingAgencyId", header.supplying_agency_id)):
            if agency is None or not agency.value:
                return f"{name}/agencyIdValue cannot be empty"
        return ""

    def _on_request(self, message: iso.Message):
        request: iso.Request = message.body
        if problem := self._invalid_header(request.header):
            return self._error(message, problem)
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
                          delivery=delivery_method_for(request),
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
                info.reason_unfilled = state.reason_retry  # illmock does ("bug really")
                retry = iso.RetryInfo(offered_costs=[iso.Costs(currency_code="USD",
                                                               monetary_value=Decimal(35))])
            elif state.reason_retry == "OnLoan":
                retry = iso.RetryInfo(retry_after=self._stamp())
            elif state.reason_retry == "LoanCondition":
                delivery = iso.DeliveryInfo(date_sent=GO_ZERO, loan_conditions=["NoReproduction"])
            elif state.reason_retry == "NotFoundAsCited":
                delivery = iso.DeliveryInfo(date_sent=GO_ZERO, item_ids=["123456789"])
        elif status == St.LOANED:
            state.loaned = True
            status_info.due_date = self._stamp() + datetime.timedelta(days=14)
            item, loan_format, copy_format = DELIVERY[state.delivery]
            delivery = iso.DeliveryInfo(date_sent=GO_ZERO, item_ids=[item],
                                        delivery_method=state.delivery,
                                        item_format=copy_format if state.copy else loan_format)
        # CopyCompleted (the COMPLETED scenario) carries no deliveryInfo at all.
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
        body = iso.Request(
            header=header,
            bibliographic_info=iso.BibliographicInfo(title=title,
                                                     supplier_unique_record_id=record_id),
            service_info=iso.ServiceInfo(request_type=iso.RequestType.NEW,
                                         service_type=service_type, note=note or None))
        self._start_requesting(body, url or self.peer_url, version or self.version)
        return rid

    def requester_state(self, rid: str) -> _Requested:
        """The request first sent as `rid`, whatever id a retry gave it since."""
        with self.lock:
            return self.requests_made[rid]

    def _start_requesting(self, body: iso.Request, url: str, version: str) -> bool:
        note = (body.service_info.note if body.service_info else None) or ""
        rid = body.header.requesting_agency_request_id
        bib_id = ""
        if note.startswith("#RETRYBIBID:") and note.endswith("#") and len(note) > 13:
            bib_id = note[len("#RETRYBIBID:"):-1]
        state = _Requested(header=body.header, version=version, url=url, note=note,
                           request=body, cancel=note == "#CANCEL#", renew=note == "#RENEW#",
                           recall=note == "#RECALL#", retry_keep_id=note == "#RETRYKEEPID#",
                           retry_bib_id=bib_id, ids=[rid])
        with self.lock:
            self.requested[rid] = state
            self.requests_made[rid] = state
        ok = self._post(url, body, version)
        if not ok:
            with self.lock:
                state.done = True
        return ok

    def _on_patron_request(self, message: iso.Message):
        """illmock's requester role: forward the patron's request as an ordinary one."""
        body: iso.Request = message.body
        service = body.service_info
        header = body.header
        header.requesting_agency_request_id = (header.requesting_agency_request_id
                                               or f"MOCKREQ-{next(self._ids)}")
        header.requesting_agency_id = header.requesting_agency_id or self.agency
        header.timestamp = self._stamp()
        service.request_sub_types = []
        url = next((s.supplier_description for s in body.supplier_info
                    if (s.supplier_description or "").startswith(("http://", "https://"))),
                   self.peer_url)
        body.supplier_info = []
        self._later(self._start_requesting, body, url, message.version)
        return 200, iso.build(iso.confirmation_for(message), message.version), "application/xml"

    def send_action(self, rid: str, action: str, note: str = "") -> bool:
        """Send `action` for request `rid`; true when the confirmation echoed the action
        (illmock goes no further otherwise)."""
        with self.lock:
            state = self.requested.get(rid)
        if state is None:
            return False
        header = iso.Header(supplying_agency_id=state.header.supplying_agency_id,
                            requesting_agency_id=state.header.requesting_agency_id,
                            requesting_agency_request_id=rid, timestamp=self._stamp())
        answer = self._post(state.url, iso.RequestingAgencyMessage(
            header=header, action=action, note=note or None), state.version, answer=True)
        if answer is None:
            return False
        echoed = getattr(answer.body, "action", None)
        if echoed is None:
            self._note("error", f"{rid} did not receive action in confirmation ({action})")
            return False
        if str(echoed) != str(action):
            self._note("error", f"{rid} did not receive same action in confirmation: "
                                f"{action} / {echoed}")
            return False
        with self.lock:
            state.actions.append(str(action))
        if action == iso.Action.RECEIVED and not state.renew and not state.recall:
            self._later(self.send_action, rid, iso.Action.SHIPPED_RETURN)
        elif action == iso.Action.RENEW:
            # illmock returns the item without waiting for the RenewResponse.
            self._later(self.send_action, rid, iso.Action.SHIPPED_RETURN)
        return True

    def _on_sam(self, body: iso.SupplyingAgencyMessage, version: str) -> None:
        rid = body.header.requesting_agency_request_id
        with self.lock:
            state = self.requested.get(rid)
            if state is None:
                return
            status = body.status_info.status
            reason = body.message_info.reason_for_message
            state.statuses.append((str(reason), str(status or "")))
            if reason == R.NOTIFICATION:
                return  # illmock ignores notifications
            if state.cancel:
                state.cancel = False
                self._later(self.send_action, rid, iso.Action.CANCEL, share=0.1)
                return
            if status == St.LOANED:
                if not state.received:
                    state.received = True
                    self._later(self.send_action, rid, iso.Action.RECEIVED, share=0.1)
            elif status == St.OVERDUE:
                if state.renew:
                    state.renew = False
                    self._later(self.send_action, rid, iso.Action.RENEW, share=0.1)
            elif status == St.RECALLED:
                state.recall = False
                self._later(self.send_action, rid, iso.Action.SHIPPED_RETURN)
            elif status in (St.LOAN_COMPLETED, St.COPY_COMPLETED, St.UNFILLED):
                self._forget(rid, state)
            elif status == St.CANCELLED and body.message_info.answer_yes_no == iso.YesNo.YES:
                self._forget(rid, state)
            elif status == St.RETRY_POSSIBLE:
                self._retry(rid, state, body)

    def _forget(self, rid: str, state: _Requested) -> None:
        self.requested.pop(rid, None)
        state.done = True

    def _retry(self, rid: str, state: _Requested, sam: iso.SupplyingAgencyMessage) -> None:
        new_id = rid
        if not state.retry_keep_id:
            self.requested.pop(rid, None)
            new_id = f"MOCKREQ-{int(time.time())}-{next(self._ids)}"
            self.requested[new_id] = state
            state.ids.append(new_id)
        old = state.request
        header = iso.Header(supplying_agency_id=old.header.supplying_agency_id,
                            requesting_agency_id=old.header.requesting_agency_id,
                            requesting_agency_request_id=new_id)
        state.header = header
        service = dataclasses.replace(old.service_info or iso.ServiceInfo(),
                                      request_type=iso.RequestType.RETRY,
                                      requesting_agency_previous_request_id=rid)
        bib = old.bibliographic_info
        if state.retry_bib_id:
            bib = dataclasses.replace(bib, supplier_unique_record_id=state.retry_bib_id)
        billing = old.billing_info
        if str(sam.message_info.reason_retry or "") == "CostExceedsMaxCost" and \
                sam.retry_info and sam.retry_info.offered_costs:
            billing = iso.BillingInfo(maximum_costs=sam.retry_info.offered_costs[0])
        retry = iso.Request(header=header, bibliographic_info=bib,
                            publication_info=old.publication_info, service_info=service,
                            requested_delivery_info=old.requested_delivery_info,
                            requesting_agency_info=old.requesting_agency_info,
                            patron_info=old.patron_info, billing_info=billing)

        def send():
            header.timestamp = self._stamp()
            self._post(state.url, retry, state.version)

        self._later(send, share=0.1)

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

    def _later(self, fn, *args, share: float = 1.0) -> None:
        """Run `fn` in a thread after `share` of the message delay (illmock's timings)."""
        def run():
            time.sleep(self.delay * share)
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
        with self.lock:
            self.bodies.append((direction, body))
        self._note(direction, f"{rid} {text}")

    def _note(self, direction: str, text: str) -> None:
        with self.lock:
            self.log.append((direction, text))
        if self.echo is not None:
            self.echo(f"{direction:>5} {text}")

    def _post(self, url: str, body, version: str, answer: bool = False):
        """Post `body`; true when confirmed OK (or, with `answer`, the confirmation or None)."""
        data = iso.build(body, version)
        self._log("out", body)
        reply = None
        # One message at a time, a few tries on a 5xx or a network error: the mock should
        # exercise the peer's logic, not its behaviour under a burst of parallel posts.
        with self._post_lock:
            for attempt in range(3):
                req = urllib.request.Request(url, data=data, method="POST",
                                             headers={"Content-Type": "application/xml"})
                try:
                    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
                        reply = iso.parse(response.read(), strict=False)
                    break
                except Exception as exc:  # noqa: BLE001
                    logger.warning("mockpeer: posting to %s failed: %s", url, exc)
                    self._note("error", f"{url}: {exc}")
                    status = getattr(exc, "code", 500)
                    if status < 500 or attempt == 2:
                        return None if answer else False
                    time.sleep(0.2 * (attempt + 1))
        if reply is None:
            return None if answer else False
        ok = reply.kind.is_confirmation and reply.body.is_ok
        if not ok:
            self._note("error", f"refused: {reply.body.error_data}")
        if answer:
            return reply if ok else None
        return ok
