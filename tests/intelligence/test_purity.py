"""The intelligence package stays pure: importing and running it never loads Django."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import octopushx.intelligence as intelligence
from octopushx.intelligence import console, pipeline, redaction
print(intelligence.redaction if False else redaction.redact_text('card 4916 3827 5061 4726'))
assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'django imported'
"""


def test_importing_intelligence_does_not_import_django():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "card [CARD]"
