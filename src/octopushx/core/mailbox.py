"""The development email backend: each email is saved as a file and announced in one console line.

Emails sent on the embedded defaults (invitations, password resets, privacy verifications) are easy
to find: ``DATA_DIR/mail/<time>-<subject>.eml`` opens in any mail program, and the console line names
the recipient, the subject, the file and the links in the body, apart from the JSON log lines.
"""

from __future__ import annotations

import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.text import slugify

LINK = re.compile(r"https?://\S+")
_lock = threading.Lock()
_sequence = 0


def mail_dir() -> Path:
    return Path(settings.DATA_DIR) / "mail"


class DevelopmentEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        global _sequence
        folder = mail_dir()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _lock:
                _sequence += 1
                number = _sequence
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            path = folder / f"{stamp}-{number:04d}-{slugify(message.subject)[:60] or 'email'}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            links = LINK.findall(message.body or "")
            lines = [f"Email to {', '.join(message.recipients())}: {message.subject!r} saved to {path}"]
            lines += [f"  link: {link}" for link in links]
            print("\n".join(lines), file=sys.stdout, flush=True)
            sent += 1
        return sent
