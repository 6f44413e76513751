"""A local fake of the few Twilio and Vonage REST endpoints telephony calls, for driving the real SDKs.

``ProviderFake`` is one HTTPS server on 127.0.0.1 (a random port, a self-signed certificate trusted
through ``REQUESTS_CA_BUNDLE``: the Vonage SDK only speaks https). The ``fake_provider`` fixture
(``tests/telephony/conftest.py``) points ``OCTOPUSHX_TWILIO_API_BASE`` and ``OCTOPUSHX_VONAGE_*_HOST``
at it. It checks the credentials as the providers do (Twilio: basic auth with the account SID and auth
token or an API key; Vonage: basic auth with the API key for numbers and applications, an RS256 JWT of
the application for the Voice API), records every request, and answers errors on demand
(``fail(path_part, status)``; ``outage = 503`` for everything).

Twilio: GET ``/2010-04-01/Accounts/{sid}.json``, GET/POST ``…/IncomingPhoneNumbers[/{sid}].json``,
POST ``…/Calls.json``. Vonage: GET/PUT ``/v2/applications/{id}``, GET ``/v1/calls``, POST ``/v1/calls``,
PUT ``/v1/calls/{uuid}`` (hangup, transfer: recorded in ``vonage.updates``) (api host); GET ``/account/numbers``, POST ``/number/update`` (rest host: the same server).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import itertools
import json
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-auth-token-SECRET-0001"
TWILIO_KEY_SID = "SK" + "2" * 32
TWILIO_KEY_SECRET = "twilio-api-key-SECRET-0002"
VONAGE_APP_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
VONAGE_API_KEY = "abcd1234"
VONAGE_API_SECRET = "vonage-api-SECRET-0003"
VONAGE_SIGNATURE_SECRET = "vonage-signature-SECRET-0004"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


VONAGE_KEY = _rsa_key()
VONAGE_PRIVATE_KEY = pem(VONAGE_KEY)
SECRETS = (TWILIO_TOKEN, TWILIO_KEY_SECRET, VONAGE_API_SECRET, VONAGE_SIGNATURE_SECRET, VONAGE_PRIVATE_KEY)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the file ``REQUESTS_CA_BUNDLE`` names) and its key."""
    key = _rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fake.crt", directory / "fake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_text(pem(key))
    return cert_path, key_path


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class TwilioState:
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # sid -> {auth_token, status, name}
    api_keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # key sid -> (secret, account sid)
    numbers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # account sid -> numbers
    calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class VonageState:
    api_key: str = VONAGE_API_KEY
    api_secret: str = VONAGE_API_SECRET
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> application (+ "public_key")
    numbers: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # PUT /v1/calls/{uuid}: {"uuid", **body}


class ProviderFake:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="telephony-fake-")
        self.cert_path, key_path = _certificate(Path(self._dir.name))
        self.requests: list[Seen] = []
        self.failures: dict[str, int] = {}
        self.outage: int | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.reset()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: Any) -> None:
                if status == 204:  # Vonage's answer to a call update: no body
                    self.send_response(204)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                # The Vonage SDK keeps the JSON content type of an earlier request on its form posts.
                try:
                    return json.loads(raw or "{}")
                except json.JSONDecodeError:
                    return dict(parse_qsl(raw))

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                params = dict(parse_qsl(url.query)) if method == "GET" else self._body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.requests.append(Seen(method, url.path, params, headers))
                    status, body = fake.route(method, url.path, params, headers)
                self._answer(status, body)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_PUT(self):
                self._serve("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"https://{self.host}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> ProviderFake:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()

    def reset(self) -> None:
        """One Twilio account (two numbers, an API key) and one Vonage application (two numbers)."""
        self.requests.clear()
        self.failures.clear()
        self.outage = None
        self.twilio = TwilioState()
        self.twilio.accounts[TWILIO_SID] = {"auth_token": TWILIO_TOKEN, "status": "active", "name": "Acme support"}
        self.twilio.api_keys[TWILIO_KEY_SID] = (TWILIO_KEY_SECRET, TWILIO_SID)
        self.twilio.numbers[TWILIO_SID] = [
            {"sid": "PN" + "a" * 32, "phone_number": "+442079460001", "friendly_name": "London office"},
            {"sid": "PN" + "b" * 32, "phone_number": "+442079460002", "friendly_name": "Sales line"},
        ]
        self.vonage = VonageState()
        public = VONAGE_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.vonage.applications[VONAGE_APP_ID] = {
            "id": VONAGE_APP_ID,
            "name": "Acme voice",
            "capabilities": {"voice": {"webhooks": {}}},
            "public_key": public.decode(),
        }
        self.vonage.numbers = [
            {"country": "GB", "msisdn": "447700900501", "type": "mobile-lvn", "features": ["VOICE", "SMS"]},
            {"country": "GB", "msisdn": "442079460777", "type": "landline", "features": ["VOICE"]},
        ]

    # --- what tests set and read ------------------------------------------------------------------

    def fail(self, path_part: str, status: int) -> None:
        """Every request whose path contains ``path_part`` answers ``status``."""
        self.failures[path_part] = status

    def seen(self, method: str, path_part: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # --- routing ----------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032d}"[: len(prefix) + 32]

    def route(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, Any]:
        if self.outage:
            return self.outage, {"message": "Service unavailable", "status": self.outage}
        for part, status in self.failures.items():
            if part in path:
                return status, {"message": f"Failure on demand ({status})", "status": status, "code": 20500}
        if path.startswith("/2010-04-01/"):
            return self.twilio_route(method, path.removeprefix("/2010-04-01/"), params, headers)
        return self.vonage_route(method, path, params, headers)

    # --- Twilio -----------------------------------------------------------------------------------

    def _basic(self, headers: dict) -> tuple[str, str]:
        value = headers.get("authorization", "")
        if not value.startswith("Basic "):
            return "", ""
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password

    def _twilio_account(self, headers: dict) -> str | None:
        """The account SID the credentials open, if they are right."""
        user, password = self._basic(headers)
        account = self.twilio.accounts.get(user)
        if account is not None and account["auth_token"] == password:
            return user
        key = self.twilio.api_keys.get(user)
        if key is not None and key[0] == password:
            return key[1]
        return None

    def twilio_route(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, Any]:
        parts = path.removesuffix(".json").split("/")  # Accounts, AC…, [IncomingPhoneNumbers|Calls, [PN…]]
        if len(parts) < 2 or parts[0] != "Accounts":
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        opened = self._twilio_account(headers)
        if opened is None or opened != parts[1]:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        account = self.twilio.accounts[opened]
        if len(parts) == 2 and method == "GET":
            return 200, {"sid": opened, "friendly_name": account["name"], "status": account["status"], "type": "Full"}
        if parts[2:3] == ["IncomingPhoneNumbers"]:
            numbers = self.twilio.numbers.setdefault(opened, [])
            if len(parts) == 3 and method == "GET":
                return 200, {"incoming_phone_numbers": numbers, "next_page_uri": None, "page": 0, "page_size": 50}
            found = next((n for n in numbers if len(parts) == 4 and n["sid"] == parts[3]), None)
            if found is None:
                return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            if method == "POST":
                for name in ("VoiceUrl", "VoiceMethod", "StatusCallback", "StatusCallbackMethod"):
                    if name in params:
                        found[_snake(name)] = params[name]
            return 200, found
        if parts[2:] == ["Calls"] and method == "POST":
            if not params.get("To") or not params.get("From") or not params.get("Url"):
                return 400, {"code": 21201, "message": "To, From and Url are required", "status": 400}
            call = {"sid": self.new_id("CA"), "status": "queued", "to": params["To"], "from": params["From"],
                    "direction": "outbound-api", "params": params}  # fmt: skip
            self.twilio.calls.append(call)
            return 201, call
        return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}

    # --- Vonage -----------------------------------------------------------------------------------

    def _vonage_basic_ok(self, headers: dict) -> bool:
        return self._basic(headers) == (self.vonage.api_key, self.vonage.api_secret)

    def _vonage_jwt_app(self, headers: dict) -> str | None:
        """The application whose private key signed the request's JWT."""
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            return None
        token = value[7:]
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        application = self.vonage.applications.get(claims.get("application_id", ""))
        if application is None:
            return None
        try:
            jwt.decode(token, application["public_key"], algorithms=["RS256"])
        except jwt.PyJWTError:
            return None
        return application["id"]

    def vonage_route(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, Any]:
        unauthorised = 401, {"type": "https://developer.vonage.com/api-errors#unauthorized", "title": "Unauthorized"}
        if path.startswith("/v2/applications/"):
            if not self._vonage_basic_ok(headers):
                return unauthorised
            application = self.vonage.applications.get(path.rsplit("/", 1)[1])
            if application is None:
                return 404, {"title": "Not found", "detail": "No such application"}
            if method == "PUT":
                application.update({k: v for k, v in params.items() if k in ("name", "capabilities", "privacy")})
            return 200, {k: v for k, v in application.items() if k != "public_key"}
        if path == "/v1/calls":
            app_id = self._vonage_jwt_app(headers)
            if app_id is None:
                return unauthorised
            if method == "GET":
                return 200, {"count": 0, "page_size": 10, "record_index": 0, "_embedded": {"calls": []},
                             "_links": {"self": {"href": "/v1/calls"}}}  # fmt: skip
            call = {"uuid": f"{next(self._ids):08d}-0000-4000-8000-000000000000", "status": "started",
                    "direction": "outbound", "conversation_uuid": "CON-1", "request": params}  # fmt: skip
            self.vonage.calls.append(call)
            return 201, {k: v for k, v in call.items() if k != "request"}
        if path.startswith("/v1/calls/") and method == "PUT":
            if self._vonage_jwt_app(headers) is None:
                return unauthorised
            call_uuid = path.rsplit("/", 1)[1]
            if params.get("action") not in ("hangup", "transfer", "mute", "unmute", "earmuff", "unearmuff"):
                return 400, {"title": "Bad request", "detail": "Unknown action"}
            if params["action"] == "transfer" and not (params.get("destination") or {}).get("url") \
                    and not (params.get("destination") or {}).get("ncco"):  # fmt: skip
                return 400, {"title": "Bad request", "detail": "A transfer needs a destination"}
            self.vonage.updates.append({"uuid": call_uuid, **params})
            placed = next((c for c in self.vonage.calls if c["uuid"] == call_uuid), None)
            if placed is not None and params["action"] == "hangup":
                placed["status"] = "completed"
            return 204, None
        if path == "/account/numbers":
            if not self._vonage_basic_ok(headers):
                return unauthorised
            return 200, {"count": len(self.vonage.numbers), "numbers": self.vonage.numbers}
        if path == "/number/update" and method == "POST":
            if not self._vonage_basic_ok(headers):
                return unauthorised
            found = next((n for n in self.vonage.numbers if n["msisdn"] == params.get("msisdn")), None)
            if found is None:
                return 200, {"error-code": "420", "error-code-label": "Number not found"}
            found["app_id"] = params.get("app_id")
            return 200, {"error-code": "200", "error-code-label": "success"}
        return 404, {"title": "Not found"}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
