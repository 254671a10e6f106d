"""Round trips: build -> parse -> build is byte-stable, and nothing is lost on the way."""

from __future__ import annotations

import pytest

from ill import iso18626 as iso

KINDS = list(iso.MessageKind)
VERSIONS = [iso.Version.V1_2, iso.Version.V2021]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_build_parse_build_gives_identical_bytes(full, portable, kind, version):
    for message in (full[kind], portable[kind]):
        first = iso.build(message, version)
        parsed = iso.parse(first)

        assert parsed.kind is kind
        assert parsed.version is version
        assert parsed.warnings == []
        assert iso.build(parsed, version) == first


@pytest.mark.parametrize("kind", KINDS)
def test_a_2021_round_trip_keeps_every_field_of_a_full_message(full, kind):
    message = full[kind]

    assert iso.parse(iso.build(message, "2021")).body == message


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_a_portable_message_survives_either_version_unchanged(portable, kind, version):
    message = portable[kind]

    assert iso.parse(iso.build(message, version)).body == message


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_can_cross_from_one_version_to_the_other_and_back(portable, kind):
    message = portable[kind]

    via_2021 = iso.parse(iso.build(message, "2021"))
    back = iso.parse(iso.build(via_2021, "1.2"))

    assert back.version is iso.Version.V1_2
    assert back.body == message


def test_the_raw_bytes_are_kept_on_the_parsed_message(portable):
    data = iso.build(portable[iso.MessageKind.REQUEST], "1.2")

    assert iso.parse(data).raw == data
