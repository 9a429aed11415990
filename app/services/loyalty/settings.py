"""The points settings (one row), with the defaults used until the brand admin saves them.

Conversion is integer arithmetic throughout: points earned = floor(paid fen × earn rate / 100);
a redemption of F fen costs ceil(F × redeem rate / 100) points, and the fen a balance can pay
is floor(points × 100 / redeem rate)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from flask_babel import gettext as _

from app.extensions import db
from app.models import LoyaltySettings
from app.models.base import utcnow
from app.services.core import audit
from app.services.core.errors import DomainError


@dataclass(frozen=True)
class Settings:
    earn_points_per_yuan: int = 1
    redeem_points_per_yuan: int = 100
    max_redeem_pct: int = 20
    lot_life_days: int = 365
    notice_days: int = 30
    silver_from_fen: int = 2_000_000  # ¥20,000 in the last 12 months
    gold_from_fen: int = 5_000_000
    diamond_from_fen: int = 10_000_000
    grace_days: int = 60

    def points_for(self, paid_fen: int) -> int:
        return max(0, paid_fen) * self.earn_points_per_yuan // 100

    def fen_for_points(self, points: int) -> int:
        return max(0, points) * 100 // self.redeem_points_per_yuan

    def points_for_fen(self, fen: int) -> int:
        return -(-max(0, fen) * self.redeem_points_per_yuan // 100)

    def thresholds(self) -> list[tuple[str, int]]:
        """(tier, from fen), lowest first."""
        return [("member", 0), ("silver", self.silver_from_fen), ("gold", self.gold_from_fen),
                ("diamond", self.diamond_from_fen)]


NAMES = [f.name for f in fields(Settings)]


def current() -> Settings:
    row = db.session.get(LoyaltySettings, 1)
    return Settings(**{name: getattr(row, name) for name in NAMES}) if row else Settings()


def save(actor_id: int, values: dict) -> Settings:
    """Check and store the settings (errors name the field)."""
    for name in NAMES:
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DomainError(_("请输入不小于 0 的整数。"), field=name)
    if values["redeem_points_per_yuan"] <= 0:
        raise DomainError(_("须大于 0。"), field="redeem_points_per_yuan")
    if values["max_redeem_pct"] > 100:
        raise DomainError(_("比例须在 0 到 100 之间。"), field="max_redeem_pct")
    if values["lot_life_days"] <= 0:
        raise DomainError(_("须大于 0。"), field="lot_life_days")
    if not values["silver_from_fen"] < values["gold_from_fen"] < values["diamond_from_fen"]:
        raise DomainError(_("门槛须依次递增：银卡 < 金卡 < 钻石。"), field="gold_from_fen")
    before = current()
    row = db.session.get(LoyaltySettings, 1)
    if row is None:
        row = LoyaltySettings(id=1)
        db.session.add(row)
    for name in NAMES:
        setattr(row, name, values[name])
    row.updated_at = utcnow()
    db.session.flush()
    audit.record(actor_id, "loyalty.settings", "loyalty_settings", 1, before.__dict__, {n: values[n] for n in NAMES})
    return current()
