"""Run the mock ISO 18626 peer (CrossLink illmock's scenario language) in the foreground.

    python manage.py iso18626_mockpeer --port 8081 --peer-url http://127.0.0.1:8000/iso18626

Aim a partner's endpoint at http://127.0.0.1:8081/iso18626 and put e.g.
``MOCK:<the partner's agency id>:WILLSUPPLY_LOANED`` in the note to partner.
"""

from django.core.management.base import BaseCommand

from workbench.mockpeer import MockPeer


class Command(BaseCommand):
    help = "Serve a mock ISO 18626 peer that speaks CrossLink illmock's scenario language."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument("--peer-url", required=True,
                            help="Where to post supplying-agency messages (Kauko's endpoint).")
        parser.add_argument("--delay", type=float, default=0.5,
                            help="Seconds between the mock's messages.")
        parser.add_argument("--agency", default="ISIL:MOCK",
                            help="The mock's own agency id when it acts as requester.")
        # Not --version: every manage.py command has that one (Django's own version).
        parser.add_argument("--schema-version", default="1.2", choices=["1.2", "2021"],
                            help="The ISO 18626 version the mock writes in.")

    def handle(self, *args, host, port, peer_url, delay, agency, schema_version, **options):
        kind, _sep, value = agency.partition(":")
        peer = MockPeer(peer_url=peer_url, host=host, port=port, delay=delay,
                        agency=(kind, value), version=schema_version,
                        echo=self.stdout.write)
        self.stdout.write(f"Mock ISO 18626 peer on {peer.url}, answering to {peer_url}")
        try:
            peer.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            peer.server.server_close()
