"""Answer time of a failed sign-in and of a password-reset request, known vs unknown address.

Runs the real middleware and Argon2 on a throw-away SQLite database and prints the median
times and their ratio (1.00 = indistinguishable). Usage:

    .venv/bin/python bench/sign_in_timing.py [ROUNDS] [login] [reset]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OCTOPUSHX_DATA_DIR", tempfile.mkdtemp(prefix="octopushx-timing-"))
os.environ.setdefault("OCTOPUSHX_RATE_LIMITS", "0")
os.environ.setdefault("OCTOPUSHX_TESTING", "0")
os.environ.setdefault("OCTOPUSHX_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")

import django  # noqa: E402

django.setup()

from axes.models import AccessAttempt  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from octopushx.accounts.models import AccountThrottle, User  # noqa: E402
from octopushx.core.context import Actor  # noqa: E402
from octopushx.tenancy import services as tenancy_services  # noqa: E402

KNOWN = "known@example.test"


def setup() -> None:
    call_command("migrate", verbosity=0)
    if not User.objects.filter(email=KNOWN).exists():
        org = tenancy_services.create_organization(Actor.system("bench"), name="Bench")
        tenancy_services.add_member(
            org, Actor.system("bench"), email=KNOWN, role="agent", password="correct-horse-battery-9", check=False
        )


def address(which: str) -> str:
    return KNOWN if which == "known" else f"nobody{random.randint(0, 10**9)}@example.test"


def measure(path: str, data_for, rounds: int) -> None:
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(rounds):
        order = ["known", "unknown"]
        random.shuffle(order)
        for which in order:
            # Start each attempt unlocked: this measures the answer, not the lock-outs.
            AccessAttempt.objects.all().delete()
            AccountThrottle.objects.all().delete()
            client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR=f"198.51.100.{random.randint(1, 250)}")
            started = time.perf_counter()
            response = client.post(path, data_for(which))
            times[which].append(time.perf_counter() - started)
            assert response.status_code in (200, 302), response.status_code
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    print(f"{path}: known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms, ratio {known / unknown:.3f}")


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 40
    wanted = [a for a in sys.argv[1:] if not a.isdigit()] or ["login", "reset"]
    setup()
    if "login" in wanted:
        measure("/accounts/login/", lambda w: {"email": address(w), "password": "wrong-password-123"}, rounds)
    if "reset" in wanted:
        measure("/accounts/password-reset/", lambda w: {"email": address(w)}, max(rounds, 200))
