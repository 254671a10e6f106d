from django.core.management.base import BaseCommand

from workbench.demo import demo_api_tokens, demo_patron_logins, seed_demo


class Command(BaseCommand):
    help = "Builds the demo institutions, catalogue, patrons, partners and staff logins " \
           "(safe to run again: it changes nothing the second time)."

    def handle(self, *args, **options):
        logins = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Staff logins:"))
        width = max(len(user) for user, *_ in logins)
        for user, password, role, where in logins:
            self.stdout.write(f"  {user.ljust(width)}  {password}  {role}, {where}")
        patrons = demo_patron_logins()
        if patrons:
            self.stdout.write(self.style.SUCCESS("Patrons (the portal at /my/, card + PIN):"))
            width = max(len(card) for card, *_ in patrons)
            for card, pin, who, where in patrons:
                self.stdout.write(f"  {card.ljust(width)}  {pin}  {who}, {where}")
        for name, token in demo_api_tokens():
            self.stdout.write(self.style.SUCCESS("API client (Authorization: Bearer TOKEN):"))
            self.stdout.write(f"  {token}  {name}")
