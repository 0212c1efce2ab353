"""Signed, expiring download links for stored files (DESIGN.md decision 6): pure functions, no I/O.

A link names the file by its SHA-256 in the path and carries in its query the directive and unit it was made for
(`d`, `u`, either may be absent), its expiry as a Unix time (`e`) and an HMAC-SHA256 over all of these (`s`,
URL-safe base64 of the first 18 bytes: 144 bits). Changing any part, the file included, breaks the signature.

An evidence link (`/anh/<directive>/<unit>`) opens the photo page of one cell's report for the board; it is signed
the same way with "evidence" in place of the file hash, which no file link can carry, so neither kind of link
passes for the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlencode

PREFIX = "/f/"
EVIDENCE_PREFIX = "/anh/"
_EVIDENCE = "evidence"
_SIGNATURE_BYTES = 18  # 144 bits, a multiple of 3 so the base64 needs no padding
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"-?[0-9]{1,18}")
_TIME = re.compile(r"[0-9]{1,18}")


class LinkStatus(StrEnum):
    OK = "ok"
    TAMPERED = "tampered"
    EXPIRED = "expired"


@dataclass(frozen=True)
class LinkCheck:
    """The verdict on a link; the ids are only filled in when the signature is genuine."""

    status: LinkStatus
    directive_id: int | None = None
    unit_id: int | None = None
    expires_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status is LinkStatus.OK


def sign(
    secret: bytes, sha256: str, directive_id: int | None, unit_id: int | None, expires_at: datetime
) -> str:
    """The path and query of a link to the file `sha256`, valid until `expires_at` (naive means UTC)."""
    expires = int(_aware(expires_at).timestamp())
    params: dict[str, str] = {}
    if directive_id is not None:
        params["d"] = str(directive_id)
    if unit_id is not None:
        params["u"] = str(unit_id)
    params["e"] = str(expires)
    params["s"] = _signature(secret, sha256, params.get("d", ""), params.get("u", ""), params["e"])
    return f"{PREFIX}{sha256}?{urlencode(params)}"


def verify(secret: bytes, sha256: str, params: Mapping[str, str], now: datetime) -> LinkCheck:
    """Check a link's path part `sha256` and its query `params` at time `now`; never raises."""
    directive, unit = params.get("d", ""), params.get("u", "")
    expires, given = params.get("e", ""), params.get("s", "")
    well_formed = (
        isinstance(sha256, str)
        and _SHA256.fullmatch(sha256) is not None
        and all(isinstance(v, str) for v in (directive, unit, expires, given))
        and all(not v or _ID.fullmatch(v) for v in (directive, unit))
        and _TIME.fullmatch(expires) is not None
    )
    if not well_formed:
        return LinkCheck(LinkStatus.TAMPERED)
    return _checked(secret, (sha256, directive, unit, expires), given, now)


def sign_evidence(secret: bytes, directive_id: int, unit_id: int, expires_at: datetime) -> str:
    """The path and query of the photo page of the report of `unit_id` on `directive_id`."""
    expires = str(int(_aware(expires_at).timestamp()))
    signature = _signature(secret, _EVIDENCE, str(directive_id), str(unit_id), expires)
    query = urlencode({"e": expires, "s": signature})
    return f"{EVIDENCE_PREFIX}{directive_id}/{unit_id}?{query}"


def verify_evidence(
    secret: bytes, directive: str, unit: str, params: Mapping[str, str], now: datetime
) -> LinkCheck:
    """Check an evidence link's path parts and query at time `now`; never raises."""
    expires, given = params.get("e", ""), params.get("s", "")
    well_formed = (
        all(isinstance(v, str) for v in (directive, unit, expires, given))
        and _ID.fullmatch(directive) is not None
        and _ID.fullmatch(unit) is not None
        and _TIME.fullmatch(expires) is not None
    )
    if not well_formed:
        return LinkCheck(LinkStatus.TAMPERED)
    return _checked(secret, (_EVIDENCE, directive, unit, expires), given, now)


def _checked(secret: bytes, signed: tuple[str, str, str, str], given: str, now: datetime) -> LinkCheck:
    """The verdict on well-formed link parts (subject, directive, unit, expiry) and the signature it carries."""
    subject, directive, unit, expires = signed
    expected = _signature(secret, subject, directive, unit, expires)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return LinkCheck(LinkStatus.TAMPERED)
    try:
        expires_at = datetime.fromtimestamp(int(expires), UTC)
    except (OverflowError, OSError, ValueError):  # beyond year 9999: no link of ours says that
        return LinkCheck(LinkStatus.TAMPERED)
    status = LinkStatus.OK if _aware(now) < expires_at else LinkStatus.EXPIRED
    return LinkCheck(
        status,
        directive_id=int(directive) if directive else None,
        unit_id=int(unit) if unit else None,
        expires_at=expires_at,
    )


def _signature(secret: bytes, subject: str, directive: str, unit: str, expires: str) -> str:
    # A versioned, newline-separated message: no field can bleed into its neighbour.
    message = "\n".join(("chibo-link-v1", subject, directive, unit, expires)).encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
