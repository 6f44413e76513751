"""A local fake of the few Stripe endpoints billing calls, for driving the real ``stripe`` SDK.

``StripeFake`` is an HTTP server on 127.0.0.1 (the ``stripe_fake`` fixture points
``OCTOPUSHX_STRIPE_API_BASE`` at it): customers, Checkout Sessions, SetupIntents, PaymentMethods
and PaymentIntents, with idempotency keys honoured as Stripe does. Tests play the customer with
``complete_setup`` / ``complete_payment`` and Stripe's webhooks with ``event`` + ``sign``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

WEBHOOK_SECRET = "whsec_test_octopushx"
SECRET_KEY = "sk_test_octopushx"


def _unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``metadata[invoice_id]=x&line_items[0][quantity]=1`` -> nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node):
        if isinstance(node, dict):
            if node and all(k.isdigit() for k in node):
                return [listify(node[k]) for k in sorted(node, key=int)]
            return {k: listify(v) for k, v in node.items()}
        return node

    return listify(root)


class StripeFake:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.declining: set[str] = set()  # payment methods whose off-session charges are declined
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{next(fake._ids)}")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                self._serve("GET", url.path, _unflatten(parse_qsl(url.query)))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                self._serve("POST", urlsplit(self.path).path, _unflatten(parse_qsl(body)))

            def _serve(self, method: str, path: str, params: dict[str, Any]) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.requests.append((method, path, params, headers))
                    key = headers.get("idempotency-key") if method == "POST" else None
                    if key and key in fake.idempotent:
                        status, body = fake.idempotent[key]
                    else:
                        status, body = fake.route(method, path, params)
                        if key:
                            fake.idempotent[key] = (status, body)
                self._answer(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- the API --------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):05d}"

    def route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        if method == "POST" and parts == ["customers"]:
            return 200, self.store({"id": self.new_id("cus"), "object": "customer", **params})
        if method == "POST" and parts == ["checkout", "sessions"]:
            session_id = self.new_id("cs_test")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "status": "open",
                "payment_status": "unpaid",
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                "payment_intent": None,
                "setup_intent": None,
                **params,
            }
            return 200, self.store(session)
        if method == "POST" and parts == ["payment_intents"]:
            return self.create_intent(params)
        if method == "GET" and len(parts) >= 2:
            obj = self.objects.get(parts[-1])
            if obj is None:
                return 404, {"error": {"type": "invalid_request_error", "message": f"No such object: {parts[-1]}"}}
            return 200, self.expanded(obj, params.get("expand") or [])
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL {path}"}}

    def store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def expanded(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        out = dict(obj)
        for field in expand:
            if isinstance(out.get(field), str) and out[field] in self.objects:
                out[field] = self.objects[out[field]]
        return out

    def create_intent(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = {
            "id": self.new_id("pi"),
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "metadata": params.get("metadata", {}),
            "amount_received": 0,
            "last_payment_error": None,
        }
        if params.get("payment_method") in self.declining:
            error = {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}
            intent.update(status="requires_payment_method", last_payment_error=error)
            self.store(intent)
            return 402, {"error": {**error, "payment_intent": intent}}
        intent.update(status="succeeded", amount_received=intent["amount"])
        return 200, self.store(intent)

    # --- the customer on Stripe's pages ---------------------------------------------------------------

    def card(self, brand: str = "visa", last4: str = "4242") -> dict[str, Any]:
        return self.store(
            {
                "id": self.new_id("pm"),
                "object": "payment_method",
                "type": "card",
                "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2030},
            }
        )

    def complete_setup(self, session_id: str, *, brand: str = "visa", last4: str = "4242") -> dict[str, Any]:
        """The customer saved a card on the setup page: the session as the webhook carries it."""
        session = self.objects[session_id]
        card = self.card(brand, last4)
        setup_intent = self.store(
            {"id": self.new_id("seti"), "object": "setup_intent", "status": "succeeded", "payment_method": card["id"]}
        )
        session.update(status="complete", setup_intent=setup_intent["id"])
        return session

    def complete_payment(self, session_id: str) -> dict[str, Any]:
        """The customer paid on the payment page: a succeeded PaymentIntent with the session's metadata."""
        session = self.objects[session_id]
        card = self.card()
        line = session["line_items"][0]["price_data"]
        intent = self.store(
            {
                "id": self.new_id("pi"),
                "object": "payment_intent",
                "amount": int(line["unit_amount"]),
                "amount_received": int(line["unit_amount"]),
                "currency": line["currency"],
                "customer": session["customer"],
                "payment_method": card["id"],
                "metadata": session.get("payment_intent_data", {}).get("metadata", {}),
                "status": "succeeded",
                "last_payment_error": None,
            }
        )
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        return session

    def calls(self, method: str, path: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
        return [(params, headers) for m, p, params, headers in self.requests if m == method and p == path]


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    """A Stripe event as Stripe posts it."""
    return json.dumps(
        {
            "id": event_id or f"evt_{abs(hash((kind, json.dumps(obj, sort_keys=True)))):x}",
            "object": "event",
            "type": kind,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header: ``t=...,v1=hex(hmac_sha256(secret, f"{t}.{payload}"))``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@pytest.fixture
def stripe_fake(settings):
    """Billing on, card payment set up, and the SDK pointed at a fresh fake on 127.0.0.1."""
    fake = StripeFake()
    fake.thread.start()
    settings.BILLING_ENABLED = True
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.url
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
