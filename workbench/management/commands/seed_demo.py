from django.core.management.base import BaseCommand

from workbench.demo import seed_demo


class Command(BaseCommand):
    help = "Builds the demo institutions, catalogue, patrons, partners and staff logins " \
           "(safe to run again: it changes nothing the second time)."

    def handle(self, *args, **options):
        logins = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Staff logins:"))
        width = max(len(user) for user, *_ in logins)
        for user, password, role, where in logins:
            self.stdout.write(f"  {user.ljust(width)}  {password}  {role}, {where}")
