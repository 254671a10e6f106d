"""Demo data: two institutions that lend to each other, plus e-mail partners.

Everything is keyed on natural keys (codes, barcodes, usernames) and written with
update_or_create, so running it again changes nothing and duplicates nothing.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from circulation.models import Loan
from circulation.services import loan_item
from fulfillment.models import (
    BibRecord,
    CirculationDesk,
    FulfillmentUnit,
    FulfillmentUnitRule,
    Holding,
    Item,
    ItemBarcode,
    Library,
    Location,
    TermsOfUse,
)
from ill.borrowing.services import borrowing_request_create
from ill.lending.services import lending_request_create
from ill.models import (
    AssignmentRule,
    AutomationSettings,
    BorrowingRequest,
    LendingRequest,
    RotaTemplate,
    RotaTemplateEntry,
)
from kauko import roles
from kauko.models import Institution, StaffUser
from partners.models import LocateProfile, Partner, TemporaryItemRule, WorkflowProfile
from patrons.models import Block, Patron, PatronGroup
from portal.models import ApiClient, PatronPin
from portal.services import api_client_create, hash_api_token

DEMO_PASSWORD = "kauko-demo"
OPERATOR_USERNAME = "operator"


@dataclass(frozen=True)
class DemoInstitution:
    code: str
    name: str
    isil: str
    main_library: str
    branch_library: str
    barcode_prefix: str


INSTITUTIONS = [
    DemoInstitution("OTA", "Otaniemi University Library", "FI-OTA", "Learning Centre",
                    "Mathematics Reading Room", "OTA"),
    DemoInstitution("KAISA", "Kaisaniemi University Library", "FI-KAISA", "Main Library",
                    "Science Library", "KAI"),
]

TITLES = [
    ("Introduction to Algorithms", "Cormen, Thomas H.", "9780262046305", "MIT Press", "2022"),
    ("Structure and Interpretation of Computer Programs", "Abelson, Harold", "9780262510875",
     "MIT Press", "1996"),
    ("The Design of Everyday Things", "Norman, Donald A.", "9780465050659", "Basic Books",
     "2013"),
    ("Thinking, Fast and Slow", "Kahneman, Daniel", "9780374533557", "Farrar, Straus and Giroux",
     "2013"),
    ("Seitsemän veljestä", "Kivi, Aleksis", "9789510096578", "WSOY", "2011"),
    ("Tuntematon sotilas", "Linna, Väinö", "9789510408630", "WSOY", "2015"),
    ("Kalevala", "Lönnrot, Elias", "9789511234566", "SKS", "2005"),
    ("Muumipappa ja meri", "Jansson, Tove", "9789510321229", "WSOY", "2008"),
    ("Linear Algebra Done Right", "Axler, Sheldon", "9783031410253", "Springer", "2024"),
    ("Principles of Mathematical Analysis", "Rudin, Walter", "9780070542358", "McGraw-Hill",
     "1976"),
    ("Concrete Mathematics", "Graham, Ronald L.", "9780201558029", "Addison-Wesley", "1994"),
    ("The Art of Computer Programming, Vol. 1", "Knuth, Donald E.", "9780201896831",
     "Addison-Wesley", "1997"),
    ("Design Patterns", "Gamma, Erich", "9780201633610", "Addison-Wesley", "1994"),
    ("Refactoring", "Fowler, Martin", "9780134757599", "Addison-Wesley", "2018"),
    ("Architecture: Form, Space, and Order", "Ching, Francis D. K.", "9781118745083", "Wiley",
     "2014"),
    ("Towards a New Architecture", "Le Corbusier", "9780486250236", "Dover", "1986"),
    ("Ways of Seeing", "Berger, John", "9780140135152", "Penguin", "1990"),
    ("Economics", "Samuelson, Paul A.", "9780073511290", "McGraw-Hill", "2009"),
    ("Capital in the Twenty-First Century", "Piketty, Thomas", "9780674430006",
     "Belknap Press", "2014"),
    ("The Wealth of Nations", "Smith, Adam", "9780553585971", "Bantam", "2003"),
    ("Organic Chemistry", "Clayden, Jonathan", "9780199270293", "Oxford University Press",
     "2012"),
    ("Molecular Biology of the Cell", "Alberts, Bruce", "9780393884821", "W. W. Norton",
     "2022"),
    ("Feynman Lectures on Physics, Vol. 1", "Feynman, Richard P.", "9780465024933",
     "Basic Books", "2011"),
    ("A Brief History of Time", "Hawking, Stephen", "9780553380163", "Bantam", "1998"),
    ("Materials Science and Engineering", "Callister, William D.", "9781119405498", "Wiley",
     "2018"),
    ("Fluid Mechanics", "White, Frank M.", "9780073398273", "McGraw-Hill", "2010"),
    ("Signals and Systems", "Oppenheim, Alan V.", "9780138147570", "Prentice Hall", "1996"),
    ("Artificial Intelligence: A Modern Approach", "Russell, Stuart", "9780134610993",
     "Pearson", "2020"),
    ("Deep Learning", "Goodfellow, Ian", "9780262035613", "MIT Press", "2016"),
    ("Pattern Recognition and Machine Learning", "Bishop, Christopher M.", "9780387310732",
     "Springer", "2006"),
    ("The Elements of Statistical Learning", "Hastie, Trevor", "9780387848570", "Springer",
     "2009"),
    ("Operating System Concepts", "Silberschatz, Abraham", "9781119800361", "Wiley", "2021"),
    ("Computer Networks", "Tanenbaum, Andrew S.", "9780132126953", "Pearson", "2010"),
    ("Database System Concepts", "Silberschatz, Abraham", "9780078022159", "McGraw-Hill",
     "2019"),
    ("Interaction Design", "Rogers, Yvonne", "9781119901099", "Wiley", "2023"),
    ("Finnish: An Essential Grammar", "Karlsson, Fred", "9781138821040", "Routledge", "2017"),
    ("Suomen kielioppi", "Hakulinen, Auli", "9789517465223", "SKS", "2004"),
    ("Svensk grammatik", "Hultman, Tor G.", "9789144024176", "Studentlitteratur", "2003"),
    ("Nordic Design", "Fiell, Charlotte", "9783836582649", "Taschen", "2021"),
    ("Alvar Aalto: Architect", "Schildt, Göran", "9789516821921", "Alvar Aalto Foundation",
     "2007"),
]

JOURNALS = [
    ("Journal of Documentation", "0022-0418"),
    ("Interlending & Document Supply", "0264-1615"),
    ("Nature", "0028-0836"),
]


def _rng(code: str) -> random.Random:
    return random.Random(f"kauko-demo-{code}")


def _location(inst, library, code, name, fu):
    loc, _ = Location.objects.update_or_create(
        library=library, code=code,
        defaults={"institution": inst, "name": name, "fulfillment_unit": fu},
    )
    return loc


def _terms(inst, name, **policies):
    terms, _ = TermsOfUse.objects.update_or_create(institution=inst, name=name,
                                                   defaults=policies)
    return terms


def _unit(inst, code, name, rules):
    unit, _ = FulfillmentUnit.objects.update_or_create(
        institution=inst, code=code, defaults={"name": name})
    for position, (rule_name, groups, policies, terms) in enumerate(rules, start=1):
        FulfillmentUnitRule.objects.update_or_create(
            fulfillment_unit=unit, position=position,
            defaults={"institution": inst, "name": rule_name, "patron_group_codes": groups,
                      "item_policy_codes": policies, "terms_of_use": terms},
        )
    return unit


def seed_institution(spec: DemoInstitution) -> Institution:
    inst, _ = Institution.objects.update_or_create(
        code=spec.code,
        defaults={"name": spec.name, "agency_id_type": "ISIL", "agency_id_value": spec.isil,
                  "time_zone": "Europe/Helsinki", "languages": "fi,sv,en",
                  "email": f"ill@{spec.code.lower()}.example.org"},
    )

    # Terms of use and fulfillment units.
    normal = _terms(inst, "Normal loan 28 days", loan_period_days=28, renewable=True,
                    max_renewals=5, max_total_loan_days=None, renewal_window_days=None,
                    self_service_allowed=True, pickup_days=7, auto_renew_patron_groups="")
    short = _terms(inst, "Course loan 14 days", loan_period_days=14, renewable=True,
                   max_renewals=2, max_total_loan_days=None, renewal_window_days=3,
                   self_service_allowed=True, pickup_days=3, auto_renew_patron_groups="")
    staff_long = _terms(inst, "Staff loan 90 days", loan_period_days=90, renewable=True,
                        max_renewals=10, max_total_loan_days=None, renewal_window_days=None,
                        self_service_allowed=True, pickup_days=7,
                        auto_renew_patron_groups="STAFF")
    reference = _terms(inst, "Reference – library use only", loan_period_days=0,
                       renewable=False, max_renewals=0, max_total_loan_days=None,
                       renewal_window_days=None, self_service_allowed=False, pickup_days=3,
                       auto_renew_patron_groups="")
    ill_domestic = _terms(inst, "ILL loan 28 days", loan_period_days=28, renewable=True,
                          max_renewals=3, max_total_loan_days=112, renewal_window_days=7,
                          self_service_allowed=True, pickup_days=10,
                          auto_renew_patron_groups="STAFF")
    ill_international = _terms(inst, "ILL loan international – desk pickup only",
                               loan_period_days=28, renewable=True, max_renewals=2,
                               max_total_loan_days=84, renewal_window_days=7,
                               self_service_allowed=False, pickup_days=10,
                               auto_renew_patron_groups="STAFF")
    ill_lending = _terms(inst, "ILL lending 28 days", loan_period_days=28, renewable=True,
                         max_renewals=2, max_total_loan_days=84, renewal_window_days=None,
                         self_service_allowed=False, pickup_days=7, auto_renew_patron_groups="")

    fu_normal = _unit(inst, "NORMAL", "Normal loan", [
        ("Staff: 90 days", "STAFF", "", staff_long),
        ("Reference items", "", "REFERENCE", reference),
        ("Everyone else", "", "", normal),
    ])
    fu_course = _unit(inst, "COURSE", "14 days loan", [("Everyone", "", "", short)])
    fu_ill_in = _unit(inst, "ILL-IN", "ILL borrowing (incoming)", [
        ("International partners: desk only", "", "ILL-INTL", ill_international),
        ("Domestic partners", "", "", ill_domestic),
    ])
    fu_ill_out = _unit(inst, "ILL-OUT", "ILL lending (outgoing)", [
        ("Partners", "", "", ill_lending),
    ])

    # Libraries, locations, desks.
    main, _ = Library.objects.update_or_create(
        institution=inst, code="MAIN",
        defaults={"name": spec.main_library, "is_rs_library": False,
                  "address": f"{spec.main_library}, {spec.name}"},
    )
    branch, _ = Library.objects.update_or_create(
        institution=inst, code="BRANCH",
        defaults={"name": spec.branch_library, "is_rs_library": False},
    )
    rs, _ = Library.objects.update_or_create(
        institution=inst, code="RS",
        defaults={"name": "Resource Sharing Office", "is_rs_library": True,
                  "address": f"Resource Sharing Office\n{spec.name}\nPO Box 1\n00076 Espoo",
                  "may_ship_to_partners": True, "may_ship_to_office": True,
                  "other_desks_may_loan": True},
    )
    stacks = _location(inst, main, "STACKS", "Open stacks", fu_normal)
    course = _location(inst, main, "COURSE", "Course books", fu_course)
    _location(inst, main, "REF", "Reference", fu_normal)
    branch_stacks = _location(inst, branch, "STACKS", "Branch stacks", fu_normal)
    incoming = _location(inst, rs, "ILL-IN", "ILL incoming", fu_ill_in)
    outgoing = _location(inst, rs, "ILL-OUT", "ILL outgoing", fu_ill_out)
    rs.incoming_location = incoming
    rs.outgoing_location = outgoing
    rs.save(update_fields=["incoming_location", "outgoing_location"])

    main_desk, _ = CirculationDesk.objects.update_or_create(
        institution=inst, code="MAIN-DESK",
        defaults={"library": main, "name": f"{spec.main_library} desk",
                  "has_hold_shelf": True, "is_pickup_point": True, "pickup_days": 7},
    )
    CirculationDesk.objects.update_or_create(
        institution=inst, code="BRANCH-DESK",
        defaults={"library": branch, "name": f"{spec.branch_library} desk",
                  "has_hold_shelf": True, "is_pickup_point": True, "pickup_days": 7},
    )
    CirculationDesk.objects.update_or_create(
        institution=inst, code="RS-DESK",
        defaults={"library": rs, "name": "Resource sharing office desk",
                  "has_hold_shelf": False, "is_pickup_point": False, "pickup_days": 0},
    )

    seed_catalogue(inst, spec, [stacks, stacks, stacks, course, branch_stacks])
    seed_patrons(inst, spec, main, main_desk)
    seed_staff(inst, spec)
    seed_desk(inst, spec, main_desk)
    return inst


def seed_catalogue(inst, spec: DemoInstitution, locations: list[Location]) -> None:
    rng = _rng(spec.code)
    number = 0
    for t_index, (title, author, isbn, publisher, year) in enumerate(TITLES):
        bib, _ = BibRecord.objects.update_or_create(
            institution=inst, isbn=isbn, hidden=False,
            defaults={"title": title, "author": author, "publisher": publisher, "year": year,
                      "format": BibRecord.Format.BOOK},
        )
        copies = 3 + (t_index % 6)  # 3..8 copies: a few hundred items in all
        for copy in range(copies):
            number += 1
            location = locations[(t_index + copy) % len(locations)]
            holding, _ = Holding.objects.get_or_create(
                institution=inst, bib=bib, location=location,
                defaults={"call_number": f"{author.split(',')[0][:3].upper()} {t_index:03d}"},
            )
            barcode = f"{spec.barcode_prefix}{number:06d}"
            existing = ItemBarcode.objects.filter(institution=inst, barcode=barcode).first()
            policy = "REFERENCE" if copy == 0 and t_index % 7 == 0 else ""
            if existing:
                item = existing.item
            else:
                item = Item.objects.create(
                    institution=inst, holding=holding, bib=bib, location=location,
                    permanent_location=location, call_number=holding.call_number,
                    item_policy=policy, description=f"c.{copy + 1}",
                )
                ItemBarcode.objects.create(institution=inst, item=item, barcode=barcode,
                                           kind=ItemBarcode.Kind.OWN)
            # Every fifth item also carries an RFID tag id, every ninth a partner barcode
            # (it came to us from another library once), to show one item, many barcodes.
            rfid = f"E280{rng.randrange(16**12):012X}"  # drawn every time: stable sequence
            if number % 5 == 0 and not item.barcodes.filter(kind=ItemBarcode.Kind.RFID).exists():
                ItemBarcode.objects.create(institution=inst, item=item, barcode=rfid,
                                           kind=ItemBarcode.Kind.RFID)
            if number % 9 == 0:
                ItemBarcode.objects.get_or_create(
                    institution=inst, barcode=f"P-{barcode}",
                    defaults={"item": item, "kind": ItemBarcode.Kind.PARTNER},
                )
    for title, issn in JOURNALS:
        bib, _ = BibRecord.objects.update_or_create(
            institution=inst, issn=issn, hidden=False,
            defaults={"title": title, "format": BibRecord.Format.JOURNAL},
        )
        Holding.objects.get_or_create(institution=inst, bib=bib, location=locations[0],
                                      defaults={"call_number": "Journals"})


PATRONS = [
    # (barcode suffix, first, last, group, extra)
    ("0001", "Aino", "Virtanen", "STAFF", {"office_address": "Department of Computer Science, "
                                                             "room A123, internal mail 15400"}),
    ("0002", "Eero", "Korhonen", "STAFF", {}),
    ("0003", "Helmi", "Mäkinen", "STUDENT", {}),
    ("0004", "Onni", "Nieminen", "STUDENT", {}),
    ("0005", "Saga", "Lindqvist", "STUDENT", {"preferred_language": "sv"}),
    ("0006", "Peter", "Smith", "EXTERNAL", {"preferred_language": "en"}),
    ("0007", "Ville", "Blocked", "STUDENT", {"block": ("fines", "Unpaid fees", "45.00")}),
    ("0008", "Lotta", "Limit", "EXTERNAL", {"at_limit": True}),
    ("0009", "Kalle", "Expired", "EXTERNAL", {"expired": True}),
    ("0010", "Maija", "Office-Blocked", "STAFF", {
        "office_address": "School of Business, room B201, internal mail 21210",
        "block": ("overdue", "Three overdue items", None)}),
]


def seed_patrons(inst, spec: DemoInstitution, home_library, pickup_desk) -> None:
    groups = {}
    for code, name, limit, office in (("STAFF", "Staff", 50, True),
                                      ("STUDENT", "Students", 30, False),
                                      ("EXTERNAL", "External users", 2, False)):
        groups[code], _ = PatronGroup.objects.update_or_create(
            institution=inst, code=code,
            defaults={"name": name, "loan_limit": limit, "may_use_office_delivery": office},
        )
    today = timezone.localdate()
    for suffix, first, last, group, extra in PATRONS:
        patron, _ = Patron.objects.update_or_create(
            institution=inst, barcode=f"{spec.code}-P{suffix}",
            defaults={
                "group": groups[group], "first_name": first, "last_name": last,
                "email": f"{first.lower()}.{last.lower()}@{spec.code.lower()}.example.org",
                "preferred_language": extra.get("preferred_language", "fi"),
                "home_library": home_library, "pickup_desk": pickup_desk,
                "office_address": extra.get("office_address", ""),
                "expiry_date": (today - datetime.timedelta(days=30)) if extra.get("expired")
                else (today + datetime.timedelta(days=365 * 3)),
                "notes": "At the loan limit of the external group (2 loans) once loans exist."
                if extra.get("at_limit") else "",
            },
        )
        if "block" in extra:
            reason, note, amount = extra["block"]
            Block.objects.update_or_create(
                institution=inst, patron=patron, reason=reason,
                defaults={"note": note, "amount_owed": Decimal(amount) if amount else None,
                          "until": None},
            )


STAFF_ROLES = [
    ("rs", "Riikka", "Resource Sharing", roles.RESOURCE_SHARING),
    ("desk", "Tiina", "Desk", roles.CIRCULATION),
    ("admin", "Aku", "Admin", roles.CONFIGURATION),
    ("acq", "Aino", "Acquisitions", roles.ACQUISITIONS),
]


def staff_username(spec: DemoInstitution, role_key: str) -> str:
    return f"{spec.code.lower()}-{role_key}"


def seed_staff(inst, spec: DemoInstitution) -> None:
    roles.ensure_roles()
    for key, first, last, role in STAFF_ROLES:
        user, created = StaffUser.objects.get_or_create(
            username=staff_username(spec, key),
            defaults={"first_name": first, "last_name": last, "institution": inst,
                      "is_staff": True, "email": f"{key}@{spec.code.lower()}.example.org"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.set([Group.objects.get(name=role)])


def _demo_secret(sender: Institution, receiver: Institution, what: str) -> str:
    # The same on every run (seed_demo is idempotent) and unique to the deployment.
    return salted_hmac("kauko.demo.partner-credentials",
                       f"{what}:{sender.code}->{receiver.code}").hexdigest()[:32]


def _demo_credentials(partner: Partner, *, us: Institution, them: Institution) -> None:
    """The demo's institutions talk to each other with credentials, as partners should:
    `them` signs its messages to `us` with what `us` expects, and the other way round."""
    partner.inbound_account_id = them.code.lower()
    partner.set_inbound_security_code(_demo_secret(them, us, "code"))
    partner.set_inbound_token(_demo_secret(them, us, "token"))
    partner.outbound_account_id = us.code.lower()
    partner.outbound_security_code = _demo_secret(us, them, "code")
    partner.outbound_token = _demo_secret(us, them, "token")
    partner.save()


def seed_partners(institutions: dict[str, Institution]) -> None:
    endpoint = f"{settings.KAUKO_BASE_URL}/iso18626"
    for inst in institutions.values():
        borrowing, _ = WorkflowProfile.objects.update_or_create(
            institution=inst, name="Full borrowing", side=WorkflowProfile.Side.BORROWING,
            defaults={"expire_after_days": 30},
        )
        lending, _ = WorkflowProfile.objects.update_or_create(
            institution=inst, name="Full lending", side=WorkflowProfile.Side.LENDING,
            defaults={"auto_renew": False, "expire_after_days": 14,
                      "overdue_notice_resend_days": 7},
        )
        simple_borrowing, _ = WorkflowProfile.objects.update_or_create(
            institution=inst, name="E-mail borrowing", side=WorkflowProfile.Side.BORROWING,
            defaults={"use_will_supply": False, "use_cancel_response": False,
                      "send_received": False},
        )
        simple_lending, _ = WorkflowProfile.objects.update_or_create(
            institution=inst, name="E-mail lending", side=WorkflowProfile.Side.LENDING,
            defaults={"use_will_supply": True, "auto_renew": True, "send_checked_in": True},
        )
        for other in institutions.values():
            if other.pk == inst.pk:
                continue
            partner, _ = Partner.objects.update_or_create(
                institution=inst, code=other.code,
                defaults={"name": other.name, "active": True,
                          "profile_type": Partner.ProfileType.ISO18626,
                          "agency_id_type": other.agency_id_type,
                          "agency_id_value": other.agency_id_value,
                          "iso_endpoint_url": endpoint, "iso_version": Partner.IsoVersion.V1_2,
                          "email": other.email, "language": "fi",
                          "borrowing_profile": borrowing, "lending_profile": lending,
                          "average_supply_days": 3, "mail_delay_days": 2,
                          "is_international": False,
                          "agreement": Partner.Agreement.RECIPROCAL},
            )
            _demo_credentials(partner, us=inst, them=other)
        Partner.objects.update_or_create(
            institution=inst, code="NRL",
            defaults={"name": "National Repository Library", "active": True,
                      "profile_type": Partner.ProfileType.EMAIL,
                      "agency_id_type": "ISIL", "agency_id_value": "FI-NRL",
                      "email": "ill@nrl.example.org", "language": "fi",
                      "address": "National Repository Library\nPO Box 1710\n70421 Kuopio",
                      "borrowing_profile": simple_borrowing, "lending_profile": simple_lending,
                      "average_supply_days": 4, "mail_delay_days": 3,
                      "is_international": False, "agreement": Partner.Agreement.FREE},
        )
        Partner.objects.update_or_create(
            institution=inst, code="RDL",
            defaults={"name": "Royal Danish Library", "active": True,
                      "profile_type": Partner.ProfileType.EMAIL,
                      "agency_id_type": "ISIL", "agency_id_value": "DK-RDL",
                      "email": "ill@rdl.example.org", "language": "en",
                      "address": "Royal Danish Library\nSøren Kierkegaards Plads 1\n"
                                 "1221 Copenhagen, Denmark",
                      "borrowing_profile": simple_borrowing, "lending_profile": simple_lending,
                      "average_supply_days": 10, "mail_delay_days": 5,
                      "is_international": True, "agreement": Partner.Agreement.PER_ITEM,
                      "price": Decimal("90.00"), "currency": "DKK"},
        )
        # Alma's temporary item rule: items from international partners get the ILL-INTL
        # item policy, so the ILL-IN unit's "International partners: desk only" terms apply.
        TemporaryItemRule.objects.update_or_create(
            institution=inst, name="International ILL: desk only",
            defaults={"position": 10, "scope": TemporaryItemRule.Scope.INTERNATIONAL,
                      "item_policy": "ILL-INTL"},
        )


DEMO_BORROWING = [
    # (patron barcode suffix, type, citation, partner codes in rota)
    ("0003", "loan", {"title": "Gödel, Escher, Bach", "author": "Hofstadter, Douglas R.",
                      "isbn": "9780465026562", "year": "1999", "publisher": "Basic Books"},
     ["NRL", "RDL"]),
    ("0001", "article", {"title": "Journal of Documentation",
                         "article_title": "Resource sharing in a networked world",
                         "article_author": "Doe, Jane", "issn": "0022-0418", "volume": "61",
                         "issue": "2", "pages": "201-219", "year": "2005"}, ["NRL"]),
    ("0005", "loan", {"title": "Nordens historia", "author": "Nordstrom, Byron J.",
                      "year": "2000"}, ["RDL"]),
]


def seed_borrowing(institutions: dict[str, Institution]) -> None:
    """A few borrowing requests waiting to be sent to the e-mail partners (created once)."""
    for inst in institutions.values():
        if BorrowingRequest.objects.filter(institution=inst).exists():
            continue
        rs_staff = StaffUser.objects.filter(institution=inst, username__endswith="-rs").first()
        for suffix, request_type, citation, codes in DEMO_BORROWING:
            patron = Patron.objects.get(institution=inst, barcode=f"{inst.code}-P{suffix}")
            partners = [Partner.objects.get(institution=inst, code=c) for c in codes]
            borrowing_request_create(
                institution=inst, patron=patron, request_type=request_type,
                citation=citation, partners=partners, user=rs_staff)


def seed_operator() -> None:
    user, created = StaffUser.objects.get_or_create(
        username=OPERATOR_USERNAME,
        defaults={"is_staff": True, "is_superuser": True, "first_name": "Deployment",
                  "last_name": "Operator"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()


@transaction.atomic
def seed_demo() -> list[tuple[str, str, str, str]]:
    """Builds (or refreshes) the demo and returns the logins (user, password, role, where)."""
    institutions = {spec.code: seed_institution(spec) for spec in INSTITUTIONS}
    seed_partners(institutions)
    seed_locate_profiles(institutions)
    seed_borrowing(institutions)
    seed_lending(institutions)
    seed_portal(institutions)
    seed_automation(institutions)
    seed_operator()
    logins = []
    for spec in INSTITUTIONS:
        for key, _first, _last, role in STAFF_ROLES:
            logins.append((staff_username(spec, key), DEMO_PASSWORD, role, spec.name))
    logins.append((OPERATOR_USERNAME, DEMO_PASSWORD, "Superuser (all institutions)", "–"))
    return logins


def seed_desk(inst, spec: DemoInstitution, desk) -> None:
    """Two open loans for "Lotta Limit", whose group's loan limit is 2: she is at the limit,
    so the desk has something to say when she comes for a book (created once)."""
    lotta = Patron.objects.get(institution=inst, barcode=f"{spec.code}-P0008")
    if Loan.objects.filter(patron=lotta).exists():
        return
    for number in (2, 3):
        item = ItemBarcode.objects.get(institution=inst,
                                       barcode=f"{spec.barcode_prefix}{number:06d}").item
        if not Loan.objects.filter(item=item, returned_at__isnull=True).exists():
            loan_item(desk=desk, patron=lotta, item=item, user=None)


DEMO_LENDING = [
    # (the partner's request id, citation): one we hold (located at once), one we do not.
    ("NRL-B-DEMO-0001", {"title": "Thinking, Fast and Slow", "author": "Kahneman, Daniel",
                         "isbn": "9780374533557", "year": "2013"}),
    ("NRL-B-DEMO-0002", {"title": "Suomen kasvio", "author": "Hiitonen, Ilmari",
                         "year": "1933"}),
]


def seed_lending(institutions: dict[str, Institution]) -> None:
    """Lending requests from the e-mail partner NRL, keyed on its request id (created once)."""
    for inst in institutions.values():
        nrl = Partner.objects.get(institution=inst, code="NRL")
        rs_staff = StaffUser.objects.filter(institution=inst, username__endswith="-rs").first()
        for partner_request_id, citation in DEMO_LENDING:
            if LendingRequest.objects.filter(institution=inst, partner=nrl,
                                             partner_request_id=partner_request_id).exists():
                continue
            lending_request_create(
                institution=inst, partner=nrl, partner_request_id=partner_request_id,
                citation=citation, user=rs_staff, requested_delivery="Mail",
                partner_note="Please send by mail.")


# --- the patron portal ------------------------------------------------------------------------

DEMO_PIN = "1234"
# Patrons printed beside the staff logins (every demo patron has the PIN).
DEMO_PORTAL_PATRONS = [("0003", "student"), ("0001", "staff, office delivery"),
                       ("0007", "blocked"), ("0009", "card expired")]


# The demo's API client of OTA, with a token known in advance so the README's curl examples
# work against `make run` (a real client's token is random and shown once).
DEMO_API_CLIENT = "OTA request form (demo)"
DEMO_API_TOKEN = "kauko_demo_ota_token"


def seed_portal(institutions: dict[str, Institution]) -> None:
    """Every demo patron gets the PIN 1234 (set once: a PIN changed later stays); OTA gets
    an API client with the demo token."""
    ota = institutions.get("OTA")
    if ota and not ApiClient.objects.filter(token_hash=hash_api_token(DEMO_API_TOKEN)).exists():
        api_client_create(institution=ota, name=DEMO_API_CLIENT, token=DEMO_API_TOKEN)
    for inst in institutions.values():
        for patron in Patron.objects.filter(institution=inst):
            pin, created = PatronPin.objects.get_or_create(
                patron=patron, defaults={"institution": inst})
            if created:
                pin.set_pin(DEMO_PIN)
                pin.save()


# A title only KAISA holds: asked for at OTA (portal or API), it goes to KAISA by itself.
KAISA_ONLY = ("Helsingin kasvitieteellinen puutarha", "Kaisaniemi, Aino", "9789510000017",
              "KAI-ONLY-1")
# Each institution's rota template (partner codes by rank) and whether it sends by itself.
DEMO_ROTAS = {
    "OTA": (["KAISA", "NRL", "RDL"], True),
    "KAISA": (["OTA", "NRL", "RDL"], False),
}


def seed_automation(institutions: dict[str, Institution]) -> None:
    """OTA's and KAISA's rota templates and rules pointing at each other (then NRL, then the
    Royal Danish Library abroad), auto-send on for OTA; and a title only KAISA holds."""
    for code, (partner_codes, auto_send) in DEMO_ROTAS.items():
        inst = institutions.get(code)
        if inst is None:
            continue
        first = partner_codes[0]
        template, _ = RotaTemplate.objects.update_or_create(
            institution=inst, name=f"{first} first",
            defaults={"description": "The other university's Kauko, then NRL, then abroad."})
        for rank, partner_code in enumerate(partner_codes, start=1):
            RotaTemplateEntry.objects.update_or_create(
                template=template, partner=Partner.objects.get(institution=inst,
                                                               code=partner_code),
                defaults={"rank": rank})
        domestic, _ = RotaTemplate.objects.update_or_create(
            institution=inst, name="Copies: domestic",
            defaults={"description": "Article and chapter copies from Finnish libraries."})
        for rank, partner_code in enumerate((first, "NRL"), start=1):
            RotaTemplateEntry.objects.update_or_create(
                template=domestic, partner=Partner.objects.get(institution=inst,
                                                               code=partner_code),
                defaults={"rank": rank})
        AssignmentRule.objects.update_or_create(
            institution=inst, name="Article copies", defaults={
                "position": 1, "template": domestic, "request_type": "article",
                "partner_scope": AssignmentRule.Scope.DOMESTIC, "auto_send": auto_send})
        AssignmentRule.objects.update_or_create(
            institution=inst, name="Everything else", defaults={
                "position": 2, "template": template, "auto_send": auto_send})
        AutomationSettings.objects.update_or_create(
            institution=inst, defaults={"auto_send": auto_send})
    kaisa = institutions.get("KAISA")
    if kaisa is None:
        return
    title, author, isbn, barcode = KAISA_ONLY
    bib, _ = BibRecord.objects.update_or_create(
        institution=kaisa, isbn=isbn, hidden=False,
        defaults={"title": title, "author": author, "year": "2024",
                  "format": BibRecord.Format.BOOK})
    if not ItemBarcode.objects.filter(institution=kaisa, barcode=barcode).exists():
        location = Location.objects.filter(institution=kaisa, library__is_rs_library=False
                                           ).order_by("pk").first()
        holding, _ = Holding.objects.get_or_create(
            institution=kaisa, bib=bib, location=location,
            defaults={"call_number": "KAI 999"})
        item = Item.objects.create(institution=kaisa, holding=holding, bib=bib,
                                   location=location, permanent_location=location,
                                   call_number="KAI 999")
        ItemBarcode.objects.create(institution=kaisa, item=item, barcode=barcode,
                                   kind=ItemBarcode.Kind.OWN)


def demo_api_tokens() -> list[tuple[str, str]]:
    """(client name, token) of the demo's API clients that still work."""
    live = ApiClient.objects.filter(token_hash=hash_api_token(DEMO_API_TOKEN),
                                    revoked_at__isnull=True).first()
    return [(f"{live.name}, {live.institution.name}", DEMO_API_TOKEN)] if live else []


def demo_patron_logins() -> list[tuple[str, str, str, str]]:
    """(card, PIN, who, where) for the portal at /my/."""
    logins = []
    for spec in INSTITUTIONS:
        for suffix, what in DEMO_PORTAL_PATRONS:
            patron = Patron.objects.filter(institution__code=spec.code,
                                           barcode=f"{spec.code}-P{suffix}").first()
            if patron:
                logins.append((patron.barcode, DEMO_PIN, f"{patron.full_name} ({what})",
                               spec.name))
    return logins


def seed_locate_profiles(institutions: dict[str, Institution]) -> None:
    """Each demo institution's ISO partners (the other demo institutions, OTA and KAISA) are
    located in the partner's own Kauko catalogue: SRU at its /sru/<code> on this server."""
    for inst in institutions.values():
        for other in institutions.values():
            if other.pk == inst.pk:
                continue
            partner = Partner.objects.get(institution=inst, code=other.code)
            LocateProfile.objects.update_or_create(
                partner=partner,
                defaults={"kind": LocateProfile.Kind.KAUKO, "sru_version": "1.2",
                          "base_url": f"{settings.KAUKO_BASE_URL}/sru/{other.code}",
                          "timeout_seconds": 10})
