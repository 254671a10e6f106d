"""Two institutions that are ISO 18626 partners of each other, and a fake wire.

Used by the ISO 18626 unit tests (their fixtures are in tests/ill/conftest.py) and the
end-to-end tests. `wire` replaces the one outbound HTTP call: each message we emit is
checked against the XSD of its version, recorded, and either answered by a function the
test chooses or delivered in-process to our own endpoint (both institutions live in one
database), whose confirmation is checked against the XSD too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from lxml import etree

from ill import iso18626 as iso
from ill.inbound import endpoint as iso_inbound
from ill.outbox import services as iso_outbound
from kauko import roles
from partners.models import Partner
from tests import factories as f

ISO_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "iso18626"




def check_valid(schemas, data: bytes, version=None) -> None:
    document = etree.fromstring(data)
    if version is None:
        label = document.get(f"{{{iso.NAMESPACE}}}version")
        version = iso.Version.from_label(label)
    schema = schemas[iso.Version(version)]
    if not schema.validate(document):
        errors = "\n".join(str(e) for e in schema.error_log)
        raise AssertionError(f"not valid ISO 18626 {version}:\n{errors}\n{data.decode()}")


def make_world(*, version: str = "1.2"):
    """OTA borrows from KAISA and the other way round; KAISA holds "Borrowed book"."""
    ota, kaisa = f.institution("OTA"), f.institution("KAISA")
    ota_setup, kaisa_setup = f.rs_setup(ota), f.rs_setup(kaisa)
    iso_fields = {"profile_type": Partner.ProfileType.ISO18626, "iso_version": version,
                  "agency_id_type": "ISIL", "mail_delay_days": 2}
    kaisa_at_ota = f.partner(ota, code="KAISA", agency_id_value="FI-KAISA",
                             iso_endpoint_url="http://kaisa.test/iso18626", **iso_fields)
    ota_at_kaisa = f.partner(kaisa, code="OTA", agency_id_value="FI-OTA",
                             iso_endpoint_url="http://ota.test/iso18626", **iso_fields)
    patron = f.patron(ota, group=f.patron_group(ota, "STUDENT", loan_limit=5),
                      pickup_desk=ota_setup.desk, email="p@example.org")
    book = f.item(kaisa_setup.stacks, title="Borrowed book", barcodes=("KAISA-0001",))
    return SimpleNamespace(
        ota=ota, kaisa=kaisa, ota_setup=ota_setup, kaisa_setup=kaisa_setup,
        kaisa_at_ota=kaisa_at_ota, ota_at_kaisa=ota_at_kaisa, patron=patron, book=book,
        ota_staff=f.staff(ota, roles.RESOURCE_SHARING),
        ota_desk=f.staff(ota, roles.CIRCULATION),
        kaisa_staff=f.staff(kaisa, roles.RESOURCE_SHARING))


@dataclass
class Wire:
    """What went out. `answer(url, data) -> PostResult | None`; None: loop back in."""

    schemas: dict
    sent: list = field(default_factory=list)
    answer: object = None

    def post(self, url, data, headers, timeout):
        check_valid(self.schemas, data)
        self.sent.append((url, data, headers))
        if self.answer is not None:
            result = self.answer(url, data)
            if result is not None:
                return result
        reply = iso_inbound.receive(body=data, content_type=headers["Content-Type"],
                                    token=headers.get("Authorization", "")[7:])
        if reply.status == 200:
            check_valid(self.schemas, reply.body)
        return iso_outbound.PostResult(reply.status, reply.body)

    def messages(self):
        return [iso.parse(data).body for _url, data, _h in self.sent]






def ok_answer(url, data):
    """A partner that confirms everything OK without doing anything."""
    message = iso.parse(data)
    return iso_outbound.PostResult(200, iso.build(iso.confirmation_for(message),
                                                  message.version))


def post_in(data: bytes, *, content_type="application/xml", token="", schemas=None):
    """Post a message to our endpoint logic; returns (Reply, parsed confirmation or None)."""
    reply = iso_inbound.receive(body=data, content_type=content_type, token=token)
    parsed = None
    if reply.status == 200:
        if schemas is not None:
            check_valid(schemas, reply.body)
        parsed = iso.parse(reply.body).body
    return reply, parsed
