"""Promotions for tests, made through the admin service (so the index version moves)."""
from datetime import timedelta
from itertools import count

from app.extensions import db
from app.models import Organisation, User
from app.services.core.clock import now_utc
from app.services.promotions import admin

_seq = count(1)


def promotion(actor: User, owner: Organisation, kind: str, rule: dict, **kw):
    values = dict(code=f"T{next(_seq):05d}", name=kw.pop("name", f"促销 {kind}"), kind=kind, rule=rule,
                  starts_at=now_utc() - timedelta(days=1), ends_at=now_utc() + timedelta(days=30), status="active")
    values.update(kw)
    row = admin.save_promotion(actor, owner, values)
    db.session.commit()
    return row


def coupon(actor: User, owner: Organisation, off_fen: int, min_spend_fen: int = 0, code: str | None = "SAVE10",
           max_uses: int | None = None, customer_ids=None, **kw):
    promo = promotion(actor, owner, "spend_off", {"ladder": [[min_spend_fen, off_fen]]}, lane="coupon", **kw)
    codes = admin.issue_codes(actor, promo, shared_code=code if not customer_ids else None, max_uses=max_uses,
                              customer_ids=customer_ids)
    db.session.commit()
    return promo, codes
