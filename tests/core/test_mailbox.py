"""The development email backend: a file per email and one console line with its links."""

from __future__ import annotations

from email import message_from_bytes

from django.core.mail import get_connection, send_mail


def test_each_email_is_saved_and_announced(settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path
    connection = get_connection("octopushx.core.mailbox.DevelopmentEmailBackend")
    send_mail(
        "You are invited to Acme",
        "Accept here: http://localhost:8123/invitations/abc/\n",
        "from@example.test",
        ["new@example.test"],
        connection=connection,
    )
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and "you-are-invited-to-acme" in files[0].name
    saved = message_from_bytes(files[0].read_bytes())
    assert saved["Subject"] == "You are invited to Acme" and saved["To"] == "new@example.test"
    out = capsys.readouterr().out
    assert "Email to new@example.test: 'You are invited to Acme' saved to" in out
    assert "  link: http://localhost:8123/invitations/abc/" in out
