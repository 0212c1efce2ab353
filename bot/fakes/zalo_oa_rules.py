"""Who the fake Zalo OA lets a message reach, and which quota pays for it: interaction windows, monthly quotas,
paid messages, upload limits. Pure rules over an injectable clock, so tests can travel days in a line.

Consultation (`cs`) messages, per the figures integrators cite (see zalo_oa_server's docstring): free while the
user's last interaction is under 48 hours old, about 8 per window ("reply"); then the OA package's monthly quota
("sub_quota"); then a paid message ("purchase_quota") if the OA pays, else -213; after 7 days without interaction
none at all (-230). Promotion messages need a follower and draw on a monthly promotion quota, then are paid;
transaction messages are always paid. Every figure is a `Policy` field, so a test can choose another reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.fakes.zalo_oa_auth import OaError

NOT_REACHABLE = -201  # unknown user id, or not (or no longer) following the OA
WINDOW_CLOSED = -213  # outside the window, monthly quota spent and the OA does not pay
SILENT_TOO_LONG = -230  # no interaction for 7 days
RATE_LIMITED = -32  # Zalo's per-minute API rate limit
FILE_TOO_LARGE = -210
FILE_TYPE_REFUSED = -211  # the fake's choice: Zalo's code for this is not published
UPLOAD_QUOTA_SPENT = -212  # the fake's choice, likewise
BAD_PARAMETER = -100

FILE_TYPES = {
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
IMAGE_TYPES = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}


@dataclass
class Policy:
    window: timedelta = timedelta(hours=48)
    per_window: int = 8
    silence_limit: timedelta = timedelta(days=7)
    monthly_quota: int = 1000  # consultation messages outside the window, per month
    promotion_quota: int = 1000
    paid: bool = True  # when the monthly quota is spent: charge each message, or refuse with -213
    upload_quota: int = 5000  # upload calls per month, files and images together
    file_max: int = 5 * 1024 * 1024
    image_max: int = 1024 * 1024


@dataclass
class Follower:
    user_id: str
    display_name: str
    following: bool = False
    last_interaction: datetime | None = None
    window_used: int = 0


@dataclass
class Ledger:
    """What the OA has spent, per month ("2024-04")."""

    sub_quota: dict[str, int] = field(default_factory=dict)
    promotion: dict[str, int] = field(default_factory=dict)
    uploads: dict[str, int] = field(default_factory=dict)
    paid: int = 0


class Rules:
    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self.ledger = Ledger()

    def interacted(self, follower: Follower, now: datetime) -> None:
        """A message, a button press, a shared form or a follow: a new window opens."""
        follower.last_interaction = now
        follower.window_used = 0

    def charge(self, route: str, follower: Follower | None, now: datetime) -> str:
        """The quota a message on `route` ("cs", "transaction", "promotion") uses, or the refusal."""
        if follower is None:
            raise OaError(NOT_REACHABLE, "User id is invalid")
        if route == "promotion":
            if not follower.following:
                raise OaError(NOT_REACHABLE, "User has not followed the OA")
            return self._monthly(self.ledger.promotion, self.policy.promotion_quota, now, "promotion")
        if route == "transaction":
            self._check_silence(follower, now)
            self.ledger.paid += 1
            return "transaction"
        return self._consultation(follower, now)

    def _consultation(self, follower: Follower, now: datetime) -> str:
        self._check_silence(follower, now)
        assert follower.last_interaction is not None
        if (
            now - follower.last_interaction < self.policy.window
            and follower.window_used < self.policy.per_window
        ):
            follower.window_used += 1
            return "reply"
        return self._monthly(self.ledger.sub_quota, self.policy.monthly_quota, now, "sub_quota")

    def _check_silence(self, follower: Follower, now: datetime) -> None:
        last = follower.last_interaction
        if last is None or now - last >= self.policy.silence_limit:
            raise OaError(SILENT_TOO_LONG, "User has not interacted with the OA in the last 7 days")

    def _monthly(self, spent: dict[str, int], limit: int, now: datetime, name: str) -> str:
        month = now.strftime("%Y-%m")
        if spent.get(month, 0) < limit:
            spent[month] = spent.get(month, 0) + 1
            return name
        if not self.policy.paid:
            raise OaError(WINDOW_CLOSED, "The interaction window has passed and the quota is spent")
        self.ledger.paid += 1
        return "purchase_quota"

    def remaining(self, follower: Follower | None, now: datetime) -> dict[str, object]:
        """What the quota endpoint reports for one user (the shape is the fake's; see the server docstring)."""
        month = now.strftime("%Y-%m")
        last = follower.last_interaction if follower else None
        open_window = last is not None and now - last < self.policy.window
        return {
            "reply": {
                "remain": self.policy.per_window - follower.window_used if open_window and follower else 0,
                "expired_at": int((last + self.policy.window).timestamp() * 1000)
                if open_window and last
                else 0,
            },
            "sub_quota": {"remain": self.policy.monthly_quota - self.ledger.sub_quota.get(month, 0)},
            "promotion": {"remain": self.policy.promotion_quota - self.ledger.promotion.get(month, 0)},
            "upload": {"remain": self.policy.upload_quota - self.ledger.uploads.get(month, 0)},
        }

    def admit_upload(self, kind: str, name: str, mime: str, size: int, now: datetime) -> None:
        """Check one upload against the type, size and monthly count limits; counts it when admitted."""
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kind == "file":
            allowed, limit = suffix in FILE_TYPES.values() or mime in FILE_TYPES, self.policy.file_max
        else:
            allowed = mime in IMAGE_TYPES or any(suffix in s for s in IMAGE_TYPES.values())
            limit = self.policy.image_max
        if not allowed:
            raise OaError(FILE_TYPE_REFUSED, f"File type is not supported for {kind} upload")
        if size > limit:
            raise OaError(FILE_TOO_LARGE, f"File size exceeds the limit of {limit} bytes")
        month = now.strftime("%Y-%m")
        if self.ledger.uploads.get(month, 0) >= self.policy.upload_quota:
            raise OaError(UPLOAD_QUOTA_SPENT, "Upload quota of this month is spent")
        self.ledger.uploads[month] = self.ledger.uploads.get(month, 0) + 1
