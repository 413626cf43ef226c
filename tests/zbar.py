"""QR decoding with zbarimg (Debian's zbar-tools): a decoder independent of our own code."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def decode_qr(path: Path) -> list[str]:
    """The payloads of the QR codes in the image file `path`, one per code."""
    exe = shutil.which("zbarimg")
    assert exe is not None, "zbarimg is required (Debian package zbar-tools)"
    done = subprocess.run(
        [exe, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout.splitlines()
