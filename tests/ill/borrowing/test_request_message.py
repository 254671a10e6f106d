"""Our ISO 18626 request says where to deliver and who asks (issue 11, point 8)."""

import pytest

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.borrowing.messages import postal_address
from tests import factories as f
from tests.ill.iso_world import ok_answer

pytestmark = pytest.mark.django_db


def sent_request(world, wire, django_capture_on_commit_callbacks, version, **kw):
    world.kaisa_at_ota.iso_version = version
    world.kaisa_at_ota.save()
    world.ota.email = "ill@ota.example.org"
    world.ota.save()
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                 partners=[world.kaisa_at_ota], **kw)
        bs.borrowing_request_send(request=br, user=world.ota_staff)
    [(_url, data, _headers)] = wire.sent  # the wire checked it against the version's XSD
    message = iso.parse(data)
    assert message.version == iso.Version(version)
    return message.body


@pytest.mark.parametrize("version", ["1.2", "2021"])
def test_a_loan_asks_for_delivery_by_post_to_the_rs_library(
        world, wire, django_capture_on_commit_callbacks, version):
    request = sent_request(world, wire, django_capture_on_commit_callbacks, version)
    [first] = request.requested_delivery_info
    assert first.sort_order == 1
    assert first.address == iso.PhysicalAddress(
        line1="Interlending, Library Street 1", line2="Finland", postal_code="90014",
        locality="Oulu")
    if version == "2021":
        assert str(first.delivery_method) == "Mail"
    agency = request.requesting_agency_info
    assert agency.name == "RS, OTA University Library"
    kinds = {str(a.electronic_address_type): a.electronic_address_data
             for a in agency.addresses if isinstance(a, iso.ElectronicAddress)}
    assert kinds["Email"] == "ill@ota.example.org"
    assert kinds["URL"].endswith("/iso18626")
    assert any(isinstance(a, iso.PhysicalAddress) and a.locality == "Oulu"
               for a in agency.addresses)


@pytest.mark.parametrize("version", ["1.2", "2021"])
def test_a_copy_asks_for_delivery_by_e_mail_first_then_by_post(
        world, wire, django_capture_on_commit_callbacks, version):
    request = sent_request(world, wire, django_capture_on_commit_callbacks, version,
                           request_type="article",
                           citation={"title": "Journal", "article_title": "Article"})
    first, second = request.requested_delivery_info
    assert (first.sort_order, second.sort_order) == (1, 2)
    assert first.address == iso.ElectronicAddress(electronic_address_type="Email",
                                                  electronic_address_data="ill@ota.example.org")
    assert isinstance(second.address, iso.PhysicalAddress)


def test_without_addresses_the_request_still_names_the_library_and_our_endpoint(
        world, wire, django_capture_on_commit_callbacks):
    world.ota_setup.rs.address = ""
    world.ota_setup.rs.save()
    request = sent_request(world, wire, django_capture_on_commit_callbacks, "1.2")
    assert request.requested_delivery_info == []
    assert [a.electronic_address_data for a in request.requesting_agency_info.addresses
            if isinstance(a, iso.ElectronicAddress)][-1].endswith("/iso18626")


@pytest.mark.parametrize("text, parts", [
    ("Kirjastotie 1\n90014 Oulu", ("Kirjastotie 1", None, "90014", "Oulu")),
    ("Box 123\nFI-00014 Helsingin yliopisto\nFinland",
     ("Box 123", "Finland", "00014", "Helsingin yliopisto")),
    ("Main building", ("Main building", None, None, None)),
])
def test_a_free_text_postal_address_is_split_into_its_parts(text, parts):
    address = postal_address(text)
    assert (address.line1, address.line2, address.postal_code, address.locality) == parts


def test_an_empty_postal_address_is_none():
    assert postal_address("  \n ") is None
