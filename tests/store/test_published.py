"""Everything under results/ is safe to publish: no host name, user name, home or checkout path."""

from __future__ import annotations

import re
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = re.compile(r"/home/[^/\s\"]+|/root/|/Users/[^/\s\"]+|" + re.escape(str(ROOT)))


def test_no_committed_result_names_the_host_or_a_private_path():
    files = [path for path in (ROOT / "results").rglob("*") if path.suffix in (".json", ".md", ".html")]
    assert files
    hostname = socket.gethostname()
    leaks = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        leaks += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in PRIVATE.finditer(text)]
        if len(hostname) > 3 and hostname in text:
            leaks.append(f"{path.relative_to(ROOT)}: the host name")
    assert not leaks[:10]
