"""Tesseract as the bot calls it in the tests: a page image read again in the same test run (the SQLite and the
PostgreSQL run of one test, two tests sending the same photos) gets back the files Tesseract wrote for it the first
time, from a folder the run's workers share; every other call goes to Tesseract itself. tests/conftest.py makes it
the bot's CHIBO_TESSERACT_CMD. It runs as a process of its own (Python's standard library only), as Tesseract does.

Usage: python ocr_cache.py ARGS... with CHIBO_OCR_CACHE (the folder) and CHIBO_OCR_REAL (Tesseract) set."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(args: list[str]) -> int:
    real = os.environ["CHIBO_OCR_REAL"]
    # A recognition is `tesseract IMAGE OUTPUT_BASE [options]`; --version, --list-langs and the like pass through.
    if len(args) < 2 or args[0].startswith("-") or not Path(args[0]).is_file():
        os.execv(real, [real, *args])
    image, base, options = Path(args[0]), Path(args[1]), args[2:]
    digest = hashlib.sha256(image.read_bytes())
    digest.update("\0".join(options).encode())
    entry = Path(os.environ["CHIBO_OCR_CACHE"]) / digest.hexdigest()
    # One reader per image: the SQLite and PostgreSQL runs of a test often start together on two workers, and the
    # second waits for the first's output rather than reading the page alongside it.
    with open(f"{entry}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not entry.is_dir():
            code = subprocess.call([real, *args])
            if code != 0:
                return code
            scratch = Path(tempfile.mkdtemp(dir=entry.parent))
            for made in base.parent.glob(f"{base.name}.*"):
                shutil.copyfile(made, scratch / made.name[len(base.name) :])
            scratch.rename(entry)
            return 0
    for kept in entry.iterdir():  # named by their suffix: ".tsv", ".txt"
        shutil.copyfile(kept, f"{base}{kept.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
