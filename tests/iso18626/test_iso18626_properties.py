"""Property tests: whatever arrives, parse() returns a Message or raises Iso18626Error.

And whatever it accepts, build() either writes schema-valid XML or raises BuildError.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ill import iso18626 as iso

FAST = settings(
    max_examples=200,
    deadline=None,
    database=None,  # leave no .hypothesis directory in the project
    suppress_health_check=[HealthCheck.too_slow],
)

# Text that XML 1.0 can carry (no control characters, no lone surrogates).
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    max_size=40,
)


def _parse_or_error(data: bytes) -> iso.Message | None:
    try:
        return iso.parse(data)
    except iso.Iso18626Error as exc:
        assert exc.error_type in set(iso.ErrorType)
        assert exc.error_value
        return None


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_message_or_an_iso18626_error(data):
    _parse_or_error(data)


@FAST
@given(st.text(max_size=2000))
def test_random_text_gives_a_message_or_an_iso18626_error(text):
    _parse_or_error(text.encode("utf-8", "surrogatepass"))


@FAST
@given(st.text(max_size=200))
def test_random_text_inside_an_iso18626_root_gives_a_message_or_an_iso18626_error(text):
    data = (
        '<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">'
        f"{text}</ISO18626Message>"
    ).encode("utf-8", "surrogatepass")
    _parse_or_error(data)


@st.composite
def mutated_samples(draw, samples_by_name):
    """A sample message with a few random element-level edits, or truncated bytes."""
    name = draw(st.sampled_from(sorted(samples_by_name)))
    data = samples_by_name[name]
    if draw(st.integers(0, 9)) == 0:
        return data[: draw(st.integers(0, len(data)))]
    root = etree.fromstring(data)
    for _ in range(draw(st.integers(1, 4))):
        elements = list(root.iter())
        target = draw(st.sampled_from(elements))
        parent = target.getparent()
        operation = draw(
            st.sampled_from(["delete", "duplicate", "text", "rename", "move", "empty"])
        )
        if operation == "delete" and parent is not None:
            parent.remove(target)
        elif operation == "duplicate" and parent is not None:
            parent.insert(parent.index(target), copy.deepcopy(target))
        elif operation == "text":
            target.text = draw(XML_TEXT)
        elif operation == "rename":
            local = draw(
                st.sampled_from(
                    [
                        "status",
                        "action",
                        "header",
                        "itemId",
                        "timestamp",
                        "reasonForMessage",
                        "bogus",
                        "dueDate",
                        "note",
                        "monetaryValue",
                        "sortOrder",
                        "volume",
                    ]
                )
            )
            target.tag = f"{{{iso.NAMESPACE}}}{local}"
        elif operation == "move" and parent is not None and len(parent) > 1:
            parent.remove(target)
            parent.insert(draw(st.integers(0, len(parent))), target)
        elif operation == "empty":
            for child in list(target):
                target.remove(child)
            target.text = None
    return etree.tostring(root)


@pytest.fixture(scope="module")
def sample_bytes(samples):
    return samples


def test_mutated_samples_give_a_message_or_an_iso18626_error(sample_bytes, schemas):
    @FAST
    @given(mutated_samples(sample_bytes))
    def check(data):
        message = _parse_or_error(data)
        if message is None:
            return
        # Whatever was accepted can be answered and re-sent: build either refuses it
        # with BuildError or writes a document the target schema accepts.
        for version in (iso.Version.V1_2, iso.Version.V2021):
            try:
                built = iso.build(message, version)
            except iso.BuildError:
                continue
            schema = schemas[version]
            assert schema.validate(etree.fromstring(built)), (schema.error_log, built)
        if not message.kind.is_confirmation:
            confirmation = iso.confirmation_for(message)
            assert schemas[message.version].validate(
                etree.fromstring(iso.build(confirmation, message.version))
            )

    check()


def test_errors_from_mutated_samples_can_always_be_confirmed_validly(sample_bytes, schemas):
    @FAST
    @given(mutated_samples(sample_bytes))
    def check(data):
        try:
            iso.parse(data)
        except iso.Iso18626Error as exc:
            confirmation = iso.error_confirmation_for(exc)
            if confirmation is not None:
                version = exc.version or iso.Version.V1_2
                built = iso.build(confirmation, version)
                assert schemas[version].validate(etree.fromstring(built)), built

    check()
