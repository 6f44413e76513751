"""Add the load test's team to the demo organisation (Acme Support): agents who sign in with the demo
password. Idempotent. Run in the target's environment (its DATA_DIR / DATABASE_URL):

    .venv/bin/python bench/load/team.py 40     # prints one email a line
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    import django

    django.setup()
    from octopushx import demo
    from octopushx.core.context import Actor
    from octopushx.shield.seats import services as seats
    from octopushx.tenancy import services
    from octopushx.tenancy.models import Membership, Organization
    from octopushx.tenancy.roles import Role

    acme = Organization.objects.get(name="Acme Support")
    emails = [f"load-agent{number:02d}@acme.test" for number in range(1, count + 1)]
    present = set(Membership.objects.filter(tenant=acme, user__email__in=emails).values_list("user__email", flat=True))
    missing = [email for email in emails if email not in present]
    subscription = seats.subscription_of(acme)
    if missing and subscription is not None:
        # The demo's plan has 25 seats: the operator's seat cap makes room for the team, audited.
        needed = seats.seats_used(acme) + len(missing)
        if (subscription.seats or 0) < needed:
            seats.set_subscription(acme, Actor.system("load test"), plan=subscription.plan, seats=needed)
    for number, email in enumerate(emails, start=1):
        if email in missing:
            services.add_member(
                acme,
                Actor.system("load test"),
                email=email,
                role=Role.AGENT,
                password=demo.PASSWORD,
                full_name=f"Load Agent {number:02d}",
                check=False,
            )
    print("\n".join(emails))


if __name__ == "__main__":
    main()
