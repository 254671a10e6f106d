"""Hostile input: entity expansion, external entities and DTDs, oversized bodies.

Every one must be refused as BadlyFormedMessage, quickly, with nothing fetched or expanded
(the contents of /etc/passwd, whose first line starts "root:", never appear anywhere).
"""

from __future__ import annotations

import time

import pytest

from ill import iso18626 as iso

NS = 'xmlns="http://illtransactions.org/2013/iso18626" xmlns:ill="http://illtransactions.org/2013/iso18626"'


def _ram_with_note(note: str) -> str:
    return f"""<ISO18626Message {NS} ill:version="1.2"><requestingAgencyMessage><header>
<supplyingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>S</agencyIdValue></supplyingAgencyId>
<requestingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>R</agencyIdValue></requestingAgencyId>
<multipleItemRequestId/><timestamp>2025-01-01T00:00:00Z</timestamp>
<requestingAgencyRequestId>X-1</requestingAgencyRequestId></header>
<action>Notification</action><note>{note}</note></requestingAgencyMessage></ISO18626Message>"""


XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + _ram_with_note("&xxe;")
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE m [\n<!ENTITY lol "lol">\n'
    + "\n".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "\n]>\n"
    + _ram_with_note("&lol9;")
)

EXTERNAL_DTD = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE ISO18626Message SYSTEM "http://attacker.example/iso18626.dtd">\n'
    + _ram_with_note("hello")
)

PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE m [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>\n'
    + _ram_with_note("hello")
)

HOSTILE = {
    "xxe": XXE.encode(),
    "billion-laughs": BILLION_LAUGHS.encode(),
    "external-dtd": EXTERNAL_DTD.encode(),
    "parameter-entity": PARAMETER_ENTITY.encode(),
    "utf-16-xxe": XXE.replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    ).encode("utf-16"),
    "lowercase-doctype": XXE.replace("DOCTYPE", "doctype").encode(),
}


def _refused(data: bytes, **kwargs) -> iso.Iso18626Error:
    started = time.perf_counter()
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(data, **kwargs)
    assert time.perf_counter() - started < 1.0, "refusal must not take time"
    exc = caught.value
    assert exc.error_type is iso.ErrorType.BADLY_FORMED_MESSAGE
    everything = " ".join([str(exc), repr(exc), exc.error_value, repr(vars(exc))])
    assert "root:" not in everything
    return exc


def test_it_refuses_an_external_entity_pointing_at_etc_passwd_without_reading_it():
    exc = _refused(HOSTILE["xxe"])

    assert "DOCTYPE" in exc.error_value


def test_it_refuses_a_billion_laughs_payload_without_expanding_it():
    exc = _refused(HOSTILE["billion-laughs"])

    assert len(exc.error_value) < 200


def test_it_refuses_an_external_dtd_without_fetching_it():
    _refused(HOSTILE["external-dtd"])


def test_it_refuses_a_parameter_entity_without_resolving_it():
    _refused(HOSTILE["parameter-entity"])


def test_it_refuses_a_doctype_hidden_in_utf_16():
    _refused(HOSTILE["utf-16-xxe"])


def test_it_refuses_a_doctype_whatever_its_case():
    _refused(HOSTILE["lowercase-doctype"])


def test_it_refuses_an_oversized_body_before_parsing_it():
    body = _ram_with_note("x" * (iso.DEFAULT_MAX_BYTES + 1)).encode()

    exc = _refused(body)

    assert str(iso.DEFAULT_MAX_BYTES) in exc.error_value


def test_the_size_limit_is_a_parameter():
    body = _ram_with_note("x" * 2000).encode()

    assert iso.parse(body).body.note == "x" * 2000
    _refused(body, max_bytes=1000)


def test_it_refuses_a_deeply_nested_document():
    depth = 10_000
    body = _ram_with_note("<a>" * depth + "</a>" * depth).encode()

    _refused(body)


def test_an_xinclude_is_not_processed():
    note = (
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude"'
        ' href="file:///etc/passwd" parse="text"/>'
    )

    message = iso.parse(_ram_with_note(note).encode())

    assert message.body.note is None
    assert "root:" not in repr(message)


def test_a_valid_message_parses_after_all_those_refusals():
    assert iso.parse(_ram_with_note("hello").encode()).body.note == "hello"


def test_a_message_of_too_many_elements_is_refused_before_it_is_read():
    # 250,000 unknown elements in 1 MiB took seconds to read; the cap is found at once.
    body = _ram_with_note("n").replace("<note>", "<junk/>" * 130_000 + "<note>").encode()
    assert len(body) <= iso.DEFAULT_MAX_BYTES
    started = time.process_time()
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(body)
    assert time.process_time() - started < 0.2
    assert caught.value.error_type == iso.ErrorType.BADLY_FORMED_MESSAGE
    assert f"more than the {iso.DEFAULT_MAX_ELEMENTS} elements" in caught.value.error_value
    # Within the cap the same kind of message is read, unknown elements and all.
    small = _ram_with_note("n").replace("<note>", "<junk/>" * 100 + "<note>").encode()
    assert iso.parse(small).body.note == "n"
