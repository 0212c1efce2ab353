"""The content-addressed file store: bytes on disk under their SHA-256, metadata in the `files` table."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import OutFile
from storage.models import StoredFile


class FileTooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes > {limit}")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class FileStore:
    root: Path
    max_bytes: int

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def write(self, data: bytes) -> str:
        """Store `data` once (idempotent) and return its SHA-256."""
        if len(data) > self.max_bytes:
            raise FileTooLarge(len(data), self.max_bytes)
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)  # atomic: a crash never leaves a half-written file under its final name
        return digest

    async def save(self, session: AsyncSession, clock: Clock, data: bytes, name: str, mime: str) -> OutFile:
        digest = self.write(data)
        if await session.get(StoredFile, digest) is None:
            session.add(
                StoredFile(sha256=digest, name=name, mime=mime, size=len(data), created_at=clock.now())
            )
            await session.flush()
        return OutFile(
            sha256=digest, name=name, mime=mime, size=len(data), as_photo=mime.startswith("image/")
        )
