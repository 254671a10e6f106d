"""ISO 18626 going out, for both roles: the outbox and its reliable delivery.

`queue` is called by `ill.borrowing.messages.borrowing_event` and
`ill.lending.messages.lending_event` *inside* the state change's transaction (through each
side's `tell_partner`). It writes the message, built in the partner's schema version, to the
outbox in that transaction, so a message exists exactly when the change it reports does. After commit a Celery task posts
it (`deliver_chain`): the messages of one request leave one at a time, in order; network
errors and 5xx answers are retried with exponential backoff; an ERROR confirmation is not
retried but shown to staff; after the last attempt the request needs attention. `sweep`
(periodic) resends whatever never reached the broker or whose worker died mid-send.
"""

from __future__ import annotations

import datetime
import functools
import http.client
import logging
import secrets
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from ill import iso18626 as iso
from ill.models import BorrowingRequest, IsoMessage, OutboxMessage, Source
from ill.outbox.wire import agency_text, mask_credentials, now_ms, storable, summary_fields
from ill.workflow import WorkflowError, flag, record
from kauko.i18n import gettext as _  # history notes read in each reader's language
from partners.models import Partner

logger = logging.getLogger(__name__)

OB = OutboxMessage
DELIVER_TASK = "ill.iso18626_deliver"


def _setting(name: str, default):
    return getattr(settings, name, default)


def http_timeout() -> float:
    """Seconds one attempt may take in all (connecting, sending, the whole answer)."""
    return float(_setting("ISO18626_HTTP_TIMEOUT", 10))


def claim_lease() -> float:
    """Seconds a worker's claim on a row holds; after that another worker may take over."""
    return float(_setting("ISO18626_CLAIM_LEASE_SECONDS", 40))


def attempt_deadline() -> float:
    """The whole attempt's time limit: the HTTP timeout, but always well inside the claim's
    lease (10 s left to record the answer), or a slow partner would be sent the message a
    second time while the first attempt still runs."""
    return max(1.0, min(http_timeout(), claim_lease() - 10))


def probe_interval() -> float:
    """Seconds between probes of a partner whose messages could not be delivered: after the
    retry ladder ran out, one of its failed messages is tried again this often, and when it
    goes through, all of them resume."""
    return float(_setting("ISO18626_PROBE_SECONDS", 900))


def max_attempts() -> int:
    return int(_setting("ISO18626_MAX_ATTEMPTS", 10))


def backoff(attempts: int) -> float:
    """Seconds before attempt number `attempts + 1`: base, 2×base, 4×base… capped."""
    base = float(_setting("ISO18626_RETRY_BASE_SECONDS", 5))
    cap = float(_setting("ISO18626_RETRY_MAX_SECONDS", 3600))
    return min(cap, base * 2 ** max(0, attempts - 1))




def _links(request) -> dict:
    if isinstance(request, BorrowingRequest):
        return {"borrowing_request": request}
    return {"lending_request": request}


def chain_of(request) -> str:
    return f"{'b' if isinstance(request, BorrowingRequest) else 'l'}:{request.pk}"


def queue(*, request, partner, body) -> OutboxMessage:
    """Store the message and its outbox row now; hand it to a worker after commit."""
    chain = chain_of(request)
    last = (OutboxMessage.objects.filter(chain=chain)
            .aggregate(seq=Max("sequence"), ts=Max("message__timestamp")))
    # Each message of a request gets a later timestamp than the one before: peers key their
    # idempotency on it, so two messages in one millisecond must not look like one.
    if last["ts"] is not None and body.header.timestamp <= last["ts"]:
        body.header.timestamp = last["ts"] + datetime.timedelta(milliseconds=1)
    xml = iso.build(body, partner.iso_version)
    message = IsoMessage.objects.create(
        direction=IsoMessage.Direction.OUT, institution=request.institution, partner=partner,
        version=partner.iso_version, sender=agency_text(_sender(body)),
        recipient=agency_text(_recipient(body)),
        requesting_agency_request_id=body.header.requesting_agency_request_id or "",
        # The log every staff role reads keeps our credentials at the partner masked; only
        # the outbox row, which sends them, has them whole.
        timestamp=body.header.timestamp, raw=mask_credentials(xml.decode("utf-8")),
        **_links(request), **summary_fields(body))
    outbox = OutboxMessage.objects.create(
        message=message, institution=request.institution, partner=partner, chain=chain,
        sequence=(last["seq"] or 0) + 1, url=partner.iso_endpoint_url,
        xml=xml.decode("utf-8"), **_links(request))
    _deliver_after_commit(chain)
    return outbox


def _deliver_after_commit(chain: str) -> None:
    """One delivery task per chain and transaction: it sends all the chain's due rows."""
    for _sids, func, _robust in connection.run_on_commit:
        if getattr(func, "iso_chain", None) == chain and not func.ran:
            return

    def deliver():
        deliver.ran = True
        hand_to_broker(chain)

    deliver.iso_chain = chain
    deliver.ran = False
    transaction.on_commit(deliver)


def _sender(body):
    h = body.header
    return h.supplying_agency_id if isinstance(body, iso.SupplyingAgencyMessage) \
        else h.requesting_agency_id


def _recipient(body):
    h = body.header
    return h.requesting_agency_id if isinstance(body, iso.SupplyingAgencyMessage) \
        else h.supplying_agency_id


def _deliver_task():
    # By name: the task module (ill.outbox.tasks) calls this one, not the other way round.
    return current_app.tasks[DELIVER_TASK]


def _eager() -> bool:
    # The project's Celery app (config.celery) is the current one; the outbox sits far below
    # the project wiring and asks through Celery rather than importing it.
    return bool(current_app.conf.task_always_eager)


def hand_to_broker(chain: str) -> bool:
    """Queue delivery of a chain; note when the broker took it (the sweeper looks for rows
    it never took). Never raises: the broker being down must not break the caller."""
    waiting = list(OutboxMessage.objects.filter(chain=chain, handed_to_broker_at__isnull=True)
                   .values_list("pk", flat=True))
    try:
        _deliver_task().apply_async(args=[chain])
    except Exception:
        logger.exception("Could not hand ISO 18626 chain %s to the broker; the sweeper will.",
                         chain)
        return False
    if waiting:
        OutboxMessage.objects.filter(pk__in=waiting).update(handed_to_broker_at=timezone.now())
    return True


@dataclass
class PostResult:
    http_status: int | None
    body: bytes
    error: str = ""


class _Deadline:
    """Cuts the connections of one attempt when its time is up. A socket timeout bounds
    each read only: a partner trickling a byte every few seconds would hold the worker, and
    outlive the claim, however long it liked.

    It watches a duplicate of each socket (so cutting never touches a descriptor that was
    closed and reused meanwhile) and shuts it down from a timer thread, which wakes the
    blocked read at once."""

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._done = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        watched = sock.dup()
        with self._lock:
            if not self.expired and not self._done:
                self._sockets.append(watched)
                return
        _cut(watched)
        watched.close()

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _cut(sock)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _watched(connection_class):
    class Watched(connection_class):
        """A connection whose socket the attempt's deadline watches (also through a
        proxy, and for HTTPS from before the TLS handshake)."""

        def __init__(self, *args, deadline: _Deadline, **kwargs):
            super().__init__(*args, **kwargs)
            create = self._create_connection

            def create_watched(*a, **kw):
                sock = create(*a, **kw)
                deadline.watch(sock)
                return sock

            self._create_connection = create_watched

    return Watched


_WatchedHTTP = _watched(http.client.HTTPConnection)
_WatchedHTTPS = _watched(http.client.HTTPSConnection)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self._deadline = deadline

    def http_open(self, req):
        return self.do_open(functools.partial(_WatchedHTTP, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self._deadline = deadline

    def https_open(self, req):
        kwargs = {"context": self._context}
        if hasattr(self, "_check_hostname"):  # Python 3.11 still passes it
            kwargs["check_hostname"] = self._check_hostname
        return self.do_open(functools.partial(_WatchedHTTPS, deadline=self._deadline), req,
                            **kwargs)


def post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> PostResult:
    """The one outbound HTTP call (tests replace it). `timeout` bounds the whole attempt,
    not each read. Network trouble comes back as http_status None with the error, never
    as an exception."""
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    deadline = _Deadline(timeout)
    opener = urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline))
    try:
        with opener.open(req, timeout=timeout) as response:
            result = PostResult(response.status, response.read(1024 * 1024))
    except urllib.error.HTTPError as exc:
        result = PostResult(exc.code, exc.read(64 * 1024) if exc.fp else b"", str(exc))
    except Exception as exc:  # noqa: BLE001 - every network failure is retried alike
        result = PostResult(None, b"", f"{type(exc).__name__}: {exc}")
    finally:
        deadline.close()
    if deadline.expired:  # whatever was read by then is not the partner's whole answer
        return PostResult(None, b"", f"TimeoutError: no complete answer within {timeout:g} s")
    return result


def _headers(partner) -> dict[str, str]:
    headers = {"Content-Type": "application/xml; charset=utf-8", "Accept": "application/xml",
               "User-Agent": "Kauko ISO 18626"}
    if partner.outbound_token:
        headers["Authorization"] = f"Bearer {partner.outbound_token}"
    return headers


def _stale_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=claim_lease())


@dataclass
class _Claim:
    """The outbox row a worker is posting (only what sending needs)."""

    pk: int
    chain: str
    token: str
    url: str
    xml: str
    partner_id: int
    message_id: int
    attempts: int


def _claim(chain: str) -> _Claim | None:
    """Claim the head of a chain if it is due, in one statement (the hot path: one round
    trip instead of a locked read and a write). The head is the first row still pending,
    sending or failed; it is taken when pending and due, or when a claim on it is stale
    (and attempts are left). Each claim gets a fresh token: only its holder records a
    result."""
    table = OutboxMessage._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    now = timezone.now()
    token = secrets.token_hex(16)
    sql = (
        f"UPDATE {table} SET state = %s, sending_since = %s, claim = %s, "
        f"attempts = attempts + 1 "
        f"WHERE id = (SELECT id FROM {table} WHERE chain = %s AND state IN (%s, %s, %s) "
        f"ORDER BY sequence LIMIT 1{lock}) "
        f"AND ((state = %s AND next_attempt_at <= %s) "
        f"OR (state = %s AND sending_since < %s AND attempts < %s)) "
        f"RETURNING id, url, xml, partner_id, message_id, attempts")
    # A stale claim at the last attempt is not taken over: the sweeper gives it up.
    params = [OB.State.SENDING, now, token, chain, *OB.BLOCKING, OB.State.PENDING, now,
              OB.State.SENDING, _stale_before(), max_attempts()]
    # One statement is its own transaction: no BEGIN and COMMIT round trips around it.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _Claim(row[0], chain, token, *row[1:]) if row else None


def deliver_chain(chain: str) -> int:
    """Post the due messages of one request, oldest first; returns how many went out.

    Safe to run twice at once and again after a crash: each row is claimed atomically
    ("sending"), an attempt ends within its deadline, well inside the claim's lease, and a
    claim older than the lease is taken over; the attempt that lost its claim records
    nothing.
    """
    sent = 0
    partners: dict[int, Partner] = {}
    while True:
        claim = _claim(chain)
        if claim is None:
            return sent
        partner = partners.get(claim.partner_id)
        if partner is None:
            partner = partners[claim.partner_id] = Partner.objects.get(pk=claim.partner_id)
        # The partner's current endpoint: if staff corrected it, waiting messages follow.
        url = partner.iso_endpoint_url or claim.url
        result = post(url, claim.xml.encode("utf-8"), _headers(partner), attempt_deadline())
        try:
            go_on = _record_result(claim, result)
        except Exception as exc:  # noqa: BLE001 - an answer we cannot store ends no worker
            logger.exception("Could not store the answer to outbox row %s", claim.pk)
            _record_unstorable(claim, result, exc)
            return sent
        if not go_on:
            return sent
        sent += 1
        if claim.attempts > 1 and result.http_status == 200:
            # It went through after failing: the partner is back. Whatever of its messages
            # failed meanwhile (the retry ladder ran out) goes again.
            resume_partner(partner=partner)


def _held(claim: _Claim):
    """The claimed row, as long as this attempt still holds the claim."""
    return OutboxMessage.objects.filter(pk=claim.pk, state=OB.State.SENDING, claim=claim.token)


def _record_result(claim: _Claim, result: PostResult) -> bool:
    """Store what the partner answered; True when the chain may go on. Nothing is stored
    when the claim was lost meanwhile (another attempt owns the row now)."""
    confirmation = None
    if result.http_status == 200:
        try:
            confirmation = iso.parse(result.body, strict=False)
        except iso.Iso18626Error as exc:
            result.error = _("The partner's answer is not an ISO 18626 confirmation: %(e)s") % {
                "e": exc.error_value}
    retry = result.http_status is None or result.http_status >= 500 or result.http_status in (
        408, 429)
    now = timezone.now()
    confirmed = confirmation is not None and confirmation.kind.is_confirmation
    if confirmed and confirmation.body.is_ok:  # the common case first, and cheapest
        return _mark_sent(claim, _confirmation_fields(result, confirmation.body), now)
    rows = _held(claim)
    messages = IsoMessage.objects.filter(pk=claim.message_id)
    if confirmed:
        fields = _confirmation_fields(result, confirmation.body)
        reason = _("The partner refused the message: %(type)s %(value)s") % {
            "type": fields["error_type"], "value": fields["error_value"]}
        with transaction.atomic():
            if not rows.update(state=OB.State.ERROR, last_error=reason):
                return False
            messages.update(**fields)
            _needs_attention(OutboxMessage.objects.get(pk=claim.pk), reason)
        return True
    error = storable(result.error or _("HTTP %(status)s from the partner") % {
        "status": result.http_status}, 10000)
    with transaction.atomic():
        if not retry:
            if not rows.update(state=OB.State.ERROR, last_error=error):
                return False
            _needs_attention(OutboxMessage.objects.get(pk=claim.pk), error)
            delay = None
        else:
            held, delay = _retry_or_give_up(claim, rows, error, now)
            if not held:
                return False
        messages.update(http_status=result.http_status, error_value=error,
                        confirmation_raw=(storable(result.body.decode("utf-8", "replace"),
                                                   10000)
                                          if result.http_status is not None else ""))
    if not retry:
        return True
    _schedule_retry(claim, delay)
    return False


def _retry_or_give_up(claim: _Claim, rows, error: str, now) -> tuple[bool, float | None]:
    """After a failed attempt: wait and try again, or, at the last attempt, give up and
    tell staff. Returns whether the claim still held, and the wait (None: given up)."""
    if claim.attempts >= max_attempts():
        # Failed: it waits for staff, or for the partner to answer a probe again.
        if not rows.update(state=OB.State.FAILED, last_error=error,
                           next_attempt_at=now + datetime.timedelta(seconds=probe_interval())):
            return False, None
        if claim.attempts == max_attempts():  # a failed probe tells nobody again
            _needs_attention(OutboxMessage.objects.get(pk=claim.pk), _(
                "The partner could not be reached after %(n)s attempts: %(error)s") % {
                "n": claim.attempts, "error": error})
        return True, None
    delay = backoff(claim.attempts)
    held = rows.update(state=OB.State.PENDING, last_error=error,
                       next_attempt_at=now + datetime.timedelta(seconds=delay))
    return bool(held), delay


def _schedule_retry(claim: _Claim, delay: float | None) -> None:
    if delay is None or _eager():  # eagerly there is no later: the sweeper retries
        return
    try:
        _deliver_task().apply_async(args=[claim.chain], countdown=delay)
    except Exception:
        logger.exception("Could not schedule the retry of %s; the sweeper will.", claim.chain)


def _record_unstorable(claim: _Claim, result: PostResult, exc: Exception) -> None:
    """Storing the partner's answer failed (the database refused its content, or the
    answer broke our reading of it): the attempt still counts, the row leaves "sending",
    and the message is retried like any failed attempt, up to the maximum. Only plain text
    of our own is written, so this cannot fail the same way."""
    error = _("The partner's answer could not be stored (HTTP %(status)s): %(error)s") % {
        "status": result.http_status if result.http_status is not None else "-",
        "error": type(exc).__name__}
    with transaction.atomic():
        held, delay = _retry_or_give_up(claim, _held(claim), error, timezone.now())
        if not held:
            return
        IsoMessage.objects.filter(pk=claim.message_id).update(
            http_status=result.http_status, error_value=error, confirmation_raw="")
    _schedule_retry(claim, delay)


def _confirmation_fields(result: PostResult, body) -> dict:
    """What the partner's confirmation says, for the stored message."""
    error = body.error_data[0] if body.error_data else None
    return {"http_status": result.http_status,
            "confirmation_raw": storable(result.body.decode("utf-8", "replace")),
            "confirmation_status": storable(str(body.message_status or ""), 10),
            "error_type": storable(str(error.error_type or ""), 40) if error else "",
            "error_value": storable(error.error_value or "") if error else ""}


def _mark_sent(claim: _Claim, fields: dict, now: datetime.datetime) -> bool:
    """The partner confirmed: the message gets its confirmation and the row is sent, in one
    transaction, if this attempt still holds the claim. Returns whether it did."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            if not _held(claim).update(state=OB.State.SENT, sent_at=now, last_error=""):
                return False
            IsoMessage.objects.filter(pk=claim.message_id).update(**fields)
        return True
    # This runs for every message delivered. On PostgreSQL both updates go as one statement,
    # which is a transaction by itself: one round trip instead of four (BEGIN, two UPDATEs,
    # COMMIT), which is most of what a worker spends on a message besides the partner.
    columns = ", ".join(f"{name} = %s" for name in fields)
    sql = (f"WITH held AS (UPDATE {OutboxMessage._meta.db_table} SET state = %s, "
           f"sent_at = %s, last_error = '' WHERE id = %s AND state = %s AND claim = %s "
           f"RETURNING message_id) "
           f"UPDATE {IsoMessage._meta.db_table} SET {columns} "
           f"WHERE id IN (SELECT message_id FROM held)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [OB.State.SENT, now, claim.pk, OB.State.SENDING, claim.token,
                             *fields.values()])
        return cursor.rowcount == 1


def _needs_attention(row: OutboxMessage, reason: str) -> None:
    request = row.borrowing_request or row.lending_request
    if request is None:
        return
    flag(request=request, reason=reason)
    record(request=request, action="iso_delivery_problem", source=Source.SYSTEM, note=reason,
           from_status=request.status, to_status=request.status)


def sweep() -> int:
    """Hand to the broker every chain whose head is due but not on its way: never handed
    over (the broker was down at commit), a retry the broker lost, or a worker that died
    mid-send. Returns how many chains were queued."""
    now = timezone.now()
    eager = _eager()
    # With a broker, give the on-commit hand-over and scheduled retries time to happen.
    grace = datetime.timedelta(seconds=0 if eager else 60)
    settle = datetime.timedelta(seconds=0 if eager else 5)
    due = OutboxMessage.objects.filter(
        Q(state=OB.State.PENDING, next_attempt_at__lte=now)
        & (Q(handed_to_broker_at__isnull=True, created_at__lte=now - settle)
           | Q(next_attempt_at__lte=now - grace))
        | Q(state=OB.State.SENDING, sending_since__lt=_stale_before()))
    _give_up_dead_claims()
    _probe_failed_partners(now)
    chains = sorted(set(due.values_list("chain", flat=True)))
    for chain in chains:
        hand_to_broker(chain)
    return len(chains)


def _give_up_dead_claims() -> int:
    """A row still "sending" long after its last allowed attempt began (its worker died
    every time, or on something it could not store): it failed, and staff are told. Left
    alone it would hold its chain forever."""
    given_up = 0
    dead = OutboxMessage.objects.filter(state=OB.State.SENDING, sending_since__lt=_stale_before(),
                                        attempts__gte=max_attempts())
    for row in dead:
        with transaction.atomic():
            # Only if nobody took it since we looked.
            if not OutboxMessage.objects.filter(
                    pk=row.pk, state=OB.State.SENDING, claim=row.claim).update(
                    state=OB.State.FAILED, last_error=_("No answer was recorded for the last "
                                                        "attempt."),
                    next_attempt_at=timezone.now() + datetime.timedelta(
                        seconds=probe_interval())):
                continue
            if row.attempts > max_attempts():  # a probe: staff were told already
                continue
            _needs_attention(row, _(
                "The partner could not be reached after %(n)s attempts: %(error)s") % {
                "n": row.attempts, "error": row.last_error or _("no answer recorded")})
        given_up += 1
    return given_up


def _probe_failed_partners(now) -> int:
    """For each partner with failed messages whose probe is due, make one of them (the
    oldest) due for a single attempt more; the others wait for the next probe. When the
    probe goes through, `deliver_chain` resumes them all. Returns how many probes."""
    due = (OutboxMessage.objects.filter(state=OB.State.FAILED, next_attempt_at__lte=now)
           .order_by("partner_id", "next_attempt_at", "id")
           .values_list("partner_id", "pk"))
    probes: dict[int, int] = {}
    for partner_id, pk in due:
        probes.setdefault(partner_id, pk)
    later = now + datetime.timedelta(seconds=probe_interval())
    for partner_id, pk in probes.items():
        with transaction.atomic():
            OutboxMessage.objects.filter(partner_id=partner_id, state=OB.State.FAILED,
                                         next_attempt_at__lte=now).exclude(pk=pk).update(
                next_attempt_at=later)
            # One attempt past the maximum: if it fails too, it is failed again, quietly.
            OutboxMessage.objects.filter(pk=pk, state=OB.State.FAILED).update(
                state=OB.State.PENDING, attempts=max_attempts(), next_attempt_at=now,
                handed_to_broker_at=None)
    return len(probes)


def resume_partner(*, partner, user=None) -> int:
    """Send again every message to `partner` that could not be delivered after all its
    attempts (each held its request's later messages back): after an outage longer than
    the retry ladder. Staff do it in one action; the outbox does it by itself when the
    partner answers again. Messages the partner refused ("error") are not included: each
    needs a look. Returns how many requests' messages resume."""
    with transaction.atomic():
        # FOR UPDATE OF the outbox rows only: PostgreSQL cannot lock the nullable side of
        # the outer joins to the requests.
        rows = list(OutboxMessage.objects.select_for_update(of=("self",))
                    .filter(partner=partner, state=OB.State.FAILED)
                    .select_related("borrowing_request", "lending_request", "message"))
        if not rows:
            return 0
        OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
            state=OB.State.PENDING, attempts=0, next_attempt_at=timezone.now(),
            handed_to_broker_at=None)
        for row in rows:
            request = row.borrowing_request or row.lending_request
            if request is None:
                continue
            if user is not None:
                note = _("Message sent again with all failed messages to %(partner)s: "
                         "%(summary)s")
            else:
                note = _("%(partner)s answers again: message sent again: %(summary)s")
            record(request=request, action="iso_resend", user=user,
                   source=Source.STAFF if user is not None else Source.SYSTEM,
                   note=note % {"partner": partner, "summary": row.message.summary},
                   from_status=request.status, to_status=request.status)
        chains = sorted({row.chain for row in rows})
        transaction.on_commit(lambda: [hand_to_broker(chain) for chain in chains])
    return len(chains)


def resend(*, outbox: OutboxMessage, user=None) -> OutboxMessage:
    """Staff send a failed or refused message again. A refused one gets a fresh timestamp,
    or the partner would only repeat its stored answer; the rest wait behind it again."""
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().select_related("partner").get(
            pk=outbox.pk)
        if row.state not in (OB.State.FAILED, OB.State.ERROR):
            raise WorkflowError(_("Only a message that failed or was refused can be resent."))
        if row.state == OB.State.ERROR:
            parsed = iso.parse(row.xml.encode("utf-8"))
            parsed.body.header.timestamp = now_ms()
            row.xml = iso.build(parsed.body, row.partner.iso_version).decode("utf-8")
            IsoMessage.objects.filter(pk=row.message_id).update(
                raw=mask_credentials(row.xml), timestamp=parsed.body.header.timestamp,
                confirmation_raw="",
                confirmation_status="", error_type="", error_value="")
        row.state = OB.State.PENDING
        row.attempts = 0
        row.next_attempt_at = timezone.now()
        row.handed_to_broker_at = None
        row.save()
        request = row.borrowing_request or row.lending_request
        if request is not None:
            record(request=request, action="iso_resend", user=user, source=Source.STAFF,
                   note=_("Message sent again: %(summary)s") % {"summary": row.message.summary},
                   from_status=request.status, to_status=request.status)
        transaction.on_commit(lambda: hand_to_broker(row.chain))
    return row


def partner_note_text(*, request, note: str) -> str:
    """The staff member's free-text message to the partner, checked: it must say something
    and the partner must speak ISO 18626 (an e-mail partner is written to by e-mail)."""
    note = (note or "").strip()
    if not note:
        raise WorkflowError(_("Write the message first."))
    if request.partner is None or not request.partner.is_iso:
        raise WorkflowError(_("Messages go to ISO 18626 partners; write to this one by e-mail."))
    return note


def partner_holds_request(*, request, attempt_id: str) -> bool:
    """Whether the partner took our request under `attempt_id`: it confirmed it OK. After
    an ERROR confirmation, a refusal over HTTP or retries that ran out, it never had it
    (and a Cancel would wait for an answer that never comes)."""
    sent = IsoMessage.objects.filter(
        borrowing_request=request, direction=IsoMessage.Direction.OUT, kind="request",
        requesting_agency_request_id=attempt_id)
    # Being posted right now: it may well arrive, so it counts as taken.
    return (sent.filter(confirmation_status="OK").exists()
            or OutboxMessage.objects.filter(message__in=sent, state=OB.State.SENDING).exists())


def withdraw(*, request) -> int:
    """Take the request's undelivered messages out of the outbox (the request closed before
    they went): they are kept, marked withdrawn, and never sent. A message being sent this
    very moment is left to finish."""
    return OutboxMessage.objects.filter(
        chain=chain_of(request), state__in=[OB.State.PENDING, OB.State.FAILED]).update(
        state=OB.State.WITHDRAWN, last_error=_("Withdrawn: the request closed first."))
