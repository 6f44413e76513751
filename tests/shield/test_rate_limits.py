"""Rate limits: sign-in, public forms and the API, per IP and per token, 429 with Retry-After."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from octopushx.shield.limits import ratelimit
from octopushx.tenancy.roles import Role


@pytest.fixture
def ip():
    """A client address of its own, so counters never collide with another test (or run)."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture
def limited(settings):
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_WINDOW_SECONDS = 60
    settings.SIGN_IN_RATE_LIMIT = 3
    settings.PUBLIC_FORM_RATE_LIMIT = 2
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    settings.API_IP_RATE_LIMIT = 100
    return settings


def test_sign_in_beyond_the_limit_is_429_with_retry_after(limited, db, ip):
    client = Client(REMOTE_ADDR=ip)
    for _ in range(3):
        assert client.post("/accounts/login/", {"email": "x@example.test", "password": "nope"}).status_code == 200
    response = client.post("/accounts/login/", {"email": "x@example.test", "password": "nope"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert b"Too many requests" in response.content


def test_sign_in_limit_is_per_ip(limited, db, ip):
    for _ in range(4):
        Client(REMOTE_ADDR=ip).post("/accounts/login/", {"email": "x@example.test", "password": "nope"})
    other = Client(REMOTE_ADDR="192.0.2.77" if ip != "192.0.2.77" else "192.0.2.78")
    assert other.post("/accounts/login/", {"email": "x@example.test", "password": "nope"}).status_code != 429


def test_viewing_the_sign_in_page_is_not_counted(limited, db, ip):
    client = Client(REMOTE_ADDR=ip)
    for _ in range(5):
        assert client.get("/accounts/login/").status_code == 200


def test_api_beyond_the_token_limit_is_429_in_the_error_shape(limited, api_as, ip):
    api = api_as(Role.AGENT)
    assert api.get("/api/v1/me", REMOTE_ADDR=ip).status_code == 200
    assert api.get("/api/v1/me", REMOTE_ADDR=ip).status_code == 200
    response = api.get("/api/v1/me", REMOTE_ADDR=ip)
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many requests") and response.json()["errors"] == {}
    assert int(response["Retry-After"]) >= 1


def test_api_token_limit_does_not_hit_another_token(limited, api_as, ip):
    first, second = api_as(Role.AGENT), api_as(Role.MANAGER)
    for _ in range(3):
        first.get("/api/v1/me", REMOTE_ADDR=ip)
    assert second.get("/api/v1/me", REMOTE_ADDR=ip).status_code == 200


def test_api_beyond_the_ip_limit_is_429_even_without_a_token(limited, db, ip):
    limited.API_IP_RATE_LIMIT = 2
    client = Client(REMOTE_ADDR=ip)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me")
    assert response.status_code == 429 and "Retry-After" in response


def test_public_form_beyond_the_limit_is_429(limited, db, ip):
    client = Client(REMOTE_ADDR=ip)
    assert client.post("/invitations/not-a-token/").status_code == 404
    assert client.post("/invitations/not-a-token/").status_code == 404
    assert client.post("/invitations/not-a-token/").status_code == 429


def test_limits_off_lets_everything_through(limited, db, ip):
    limited.RATE_LIMITS_ENABLED = False
    client = Client(REMOTE_ADDR=ip)
    for _ in range(6):
        assert client.post("/invitations/not-a-token/").status_code == 404


def test_a_limit_of_zero_means_unlimited(limited, db, ip):
    limited.PUBLIC_FORM_RATE_LIMIT = 0
    client = Client(REMOTE_ADDR=ip)
    for _ in range(4):
        assert client.post("/invitations/not-a-token/").status_code == 404


def test_counter_resets_in_the_next_window(limited, ip):
    limit = ratelimit.Limit("test_window", 1, 60)
    assert ratelimit.hit(limit, ip, now=1_000_020.0) is None
    assert ratelimit.hit(limit, ip, now=1_000_030.0) == 50  # the window ends at 1_000_080
    assert ratelimit.hit(limit, ip, now=1_000_081.0) is None


def test_decorator_limits_posts_per_ip(limited, rf, ip, db):  # the 429 page shows the brand, from the database
    @ratelimit.rate_limited("public_form")
    def view(request):
        from django.http import HttpResponse

        return HttpResponse("ok")

    def post():
        request = rf.post("/somewhere/", REMOTE_ADDR=ip)
        request.user = None
        return view(request)

    assert post().status_code == 200
    assert post().status_code == 200
    response = post()
    assert response.status_code == 429 and response["Retry-After"]


# --- counters shared by processes without Redis -----------------------------------------------

COUNTING = """
import sys
import django
django.setup()
from octopushx.shield.limits import ratelimit
limit = ratelimit.Limit("shared", int(sys.argv[1]), 60)
waits = [ratelimit.hit(limit, "203.0.113.9", now=1_000_020.0) for _ in range(int(sys.argv[2]))]
print(sum(w is not None for w in waits))
"""


def counting_process(data_dir, allowed: int, hits: int) -> subprocess.Popen:
    environment = {**os.environ, "OCTOPUSHX_DATA_DIR": str(data_dir), "OCTOPUSHX_RATE_LIMITS": "1",
                   "DJANGO_SETTINGS_MODULE": "octopushx.settings", "OCTOPUSHX_TESTING": "1"}  # fmt: skip
    environment.pop("REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "-c", COUNTING, str(allowed), str(hits)], env=environment, stdout=subprocess.PIPE, text=True
    )


def test_processes_without_redis_share_their_counters(tmp_path):
    first = counting_process(tmp_path, 3, 2)
    assert first.wait(60) == 0 and first.stdout.read().strip() == "0"  # 2 of 3 used
    second = counting_process(tmp_path, 3, 2)
    assert second.wait(60) == 0 and second.stdout.read().strip() == "1"  # the 4th hit overall is refused


def test_concurrent_processes_never_lose_a_hit(tmp_path):
    runs = [counting_process(tmp_path, 1000, 200) for _ in range(2)]
    assert [run.wait(120) for run in runs] == [0, 0]
    with sqlite3.connect(tmp_path / "ratelimit.sqlite3") as connection:
        assert connection.execute("SELECT sum(count) FROM counters").fetchone()[0] == 400


def test_an_expired_counter_starts_again(tmp_path, limited, ip):
    limited.RATE_LIMIT_DB = str(tmp_path / "counters.sqlite3")
    limited.REDIS_URL = ""
    counters = ratelimit.SharedCounters()
    path = ratelimit.counters_path()
    assert [counters.incr(path, "k", expires=100.0, now=50.0) for _ in range(2)] == [1, 2]
    assert counters.incr(path, "k", expires=200.0, now=150.0) == 1


def test_an_unusable_counters_file_falls_back_to_this_process(tmp_path, limited, ip):
    limited.RATE_LIMIT_DB = str(tmp_path / "missing-folder" / "counters.sqlite3")
    limited.REDIS_URL = ""
    limit = ratelimit.Limit("fallback", 1, 60)
    assert ratelimit.hit(limit, ip) is None
    assert ratelimit.hit(limit, ip) is not None


def test_an_unreachable_redis_lets_requests_through_counted_in_this_process(limited, ip):
    """A Redis restart must not turn every API request into a 500 (bench/faults found it): the
    counters fall back to this process, as they do when the SQLite counters file is unusable."""
    nowhere = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": nowhere}}
    limit = ratelimit.Limit("redis-down", 1, 60)
    with override_settings(REDIS_URL=nowhere, CACHES=redis_cache):  # undone before the fixtures clear the cache
        assert ratelimit.hit(limit, ip) is None
        assert ratelimit.hit(limit, ip) is not None
