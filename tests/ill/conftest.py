"""ILL's fixtures: two institutions that are ISO 18626 partners of each other (`world`),
the official schemas (`xsd`) and the fake wire that checks and records what goes out."""

import pytest
from lxml import etree

from ill import iso18626 as iso
from ill.outbox import services as iso_outbound
from tests.ill.iso_world import ISO_DIR, Wire, make_world


@pytest.fixture(scope="session")
def xsd():
    if not ISO_DIR.is_dir():
        pytest.skip(f"../shared/iso18626 not found: the schemas are expected at {ISO_DIR}")
    return {
        iso.Version.V1_2: etree.XMLSchema(etree.parse(str(ISO_DIR / "ISO-18626-v1_2.xsd"))),
        iso.Version.V2021: etree.XMLSchema(etree.parse(str(ISO_DIR / "ISO-18626-2021-2.xsd"))),
    }


@pytest.fixture
def wire(monkeypatch, xsd):
    w = Wire(schemas=xsd)
    monkeypatch.setattr(iso_outbound, "post", w.post)
    return w


@pytest.fixture
def world(db):
    return make_world()
