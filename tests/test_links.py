"""Signed download links: a genuine link verifies, any change to it does not, and it stops working when due."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.links import PREFIX, LinkStatus, sign, verify

SECRET = b"link-secret-for-tests"
SHA = hashlib.sha256(b"cong van 747").hexdigest()
NOW = datetime(2024, 4, 3, 2, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30)


def parse(link: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(link)
    assert parts.path.startswith(PREFIX)
    return parts.path.removeprefix(PREFIX), dict(parse_qsl(parts.query))


def test_roundtrip_carries_directive_and_unit() -> None:
    sha, params = parse(sign(SECRET, SHA, 747, 12, EXPIRES))
    check = verify(SECRET, sha, params, NOW)
    assert check.ok and check.status is LinkStatus.OK
    assert (check.directive_id, check.unit_id) == (747, 12)
    assert check.expires_at == EXPIRES


def test_link_shape() -> None:
    link = sign(SECRET, SHA, 747, 12, EXPIRES)
    sha, params = parse(link)
    assert sha == SHA
    assert params["e"] == str(int(EXPIRES.timestamp()))
    assert len(params["s"]) >= 22  # at least 128 bits of URL-safe base64
    assert set(params["s"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_ids_are_optional() -> None:
    sha, params = parse(sign(SECRET, SHA, None, None, EXPIRES))
    assert "d" not in params and "u" not in params
    check = verify(SECRET, sha, params, NOW)
    assert check.ok and check.directive_id is None and check.unit_id is None


def test_other_file_is_tampered() -> None:
    _, params = parse(sign(SECRET, SHA, 747, 12, EXPIRES))
    other = hashlib.sha256(b"another file").hexdigest()
    assert verify(SECRET, other, params, NOW).status is LinkStatus.TAMPERED


@pytest.mark.parametrize(
    ("key", "value"),
    [("d", "748"), ("u", "13"), ("e", str(int(EXPIRES.timestamp()) + 86400)), ("s", "A" * 24)],
)
def test_changed_parameter_is_tampered(key: str, value: str) -> None:
    sha, params = parse(sign(SECRET, SHA, 747, 12, EXPIRES))
    params[key] = value
    check = verify(SECRET, sha, params, NOW)
    assert check.status is LinkStatus.TAMPERED
    assert check.directive_id is None and check.unit_id is None


@pytest.mark.parametrize("key", ["d", "u", "e", "s"])
def test_removed_parameter_is_tampered(key: str) -> None:
    sha, params = parse(sign(SECRET, SHA, 747, 12, EXPIRES))
    del params[key]
    assert verify(SECRET, sha, params, NOW).status is LinkStatus.TAMPERED


def test_added_unit_to_unit_less_link_is_tampered() -> None:
    sha, params = parse(sign(SECRET, SHA, 747, None, EXPIRES))
    params["u"] = "12"
    assert verify(SECRET, sha, params, NOW).status is LinkStatus.TAMPERED


def test_other_secret_is_tampered() -> None:
    sha, params = parse(sign(SECRET, SHA, 747, 12, EXPIRES))
    assert verify(b"another deployment", sha, params, NOW).status is LinkStatus.TAMPERED


def test_expired_exactly_at_and_after_expiry() -> None:
    sha, params = parse(sign(SECRET, SHA, 747, 12, EXPIRES))
    assert verify(SECRET, sha, params, EXPIRES - timedelta(seconds=1)).ok
    at = verify(SECRET, sha, params, EXPIRES)
    assert at.status is LinkStatus.EXPIRED
    assert at.directive_id == 747  # genuine but late: the server may say which directive to ask again for
    assert verify(SECRET, sha, params, EXPIRES + timedelta(days=1)).status is LinkStatus.EXPIRED


def test_naive_times_are_utc() -> None:
    naive_expiry = EXPIRES.replace(tzinfo=None)
    sha, params = parse(sign(SECRET, SHA, 1, 2, naive_expiry))
    assert params["e"] == str(int(EXPIRES.timestamp()))
    assert verify(SECRET, sha, params, NOW.replace(tzinfo=None)).ok


@pytest.mark.parametrize(
    ("sha", "params"),
    [
        ("../../etc/passwd", {"e": "1", "s": "x"}),
        (SHA.upper(), {"e": "1", "s": "x"}),
        (SHA, {"e": "soon", "s": "x"}),
        (SHA, {"d": "1; drop", "e": "1", "s": "x"}),
        (SHA, {"e": "9" * 40, "s": "x"}),
        (SHA, {"e": "1", "s": "ẞ€ unicode"}),
        (SHA, {}),
    ],
)
def test_malformed_input_never_raises(sha: str, params: dict[str, str]) -> None:
    assert verify(SECRET, sha, params, NOW).status is LinkStatus.TAMPERED


@given(
    directive=st.none() | st.integers(min_value=0, max_value=10**12),
    unit=st.none() | st.integers(min_value=0, max_value=10**12),
    days=st.integers(min_value=1, max_value=3650),
)
def test_any_ids_roundtrip(directive: int | None, unit: int | None, days: int) -> None:
    sha, params = parse(sign(SECRET, SHA, directive, unit, NOW + timedelta(days=days)))
    check = verify(SECRET, sha, params, NOW)
    assert check.ok and (check.directive_id, check.unit_id) == (directive, unit)
