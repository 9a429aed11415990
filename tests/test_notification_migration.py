"""The h3_notification_subjects migration converts the notices already stored: the role from the
audience, the subject read back from the old link, the old text kept as written ("plain")."""
import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db

OLD = [  # audience, title, body, link → role, subject, subject_id, subject_scope_id
    ("retailer", "订单 SO1：已签收", "说明", "/retailer/orders/41", ("retailer", "order", 41, None)),
    ("dealer", "订单 SO2：已发货", "", "/dealer/replenishment/orders/42", ("dealer", "order", 42, None)),
    ("admin:orders", "订单 SO3 待审核", "", "/admin/orders/43", ("admin", "sales_order", 43, None)),
    ("dealer", "订单 SO4 申请退货 RT1", "坏了", "/dealer/returns/7", ("dealer", "return", 7, None)),
    ("retailer", "退货 RT1 已接受", "", "/retailer/returns", ("retailer", "return", None, None)),
    ("admin:stock", "库存低于再订货点：X @ DC", "可用 1", "/admin/stock/3/9", ("admin", "stock", 9, 3)),
    (None, "旧通知", "", "https://evil.example/", ("dealer", None, None, None)),
]


def test_old_notices_are_converted_and_restored(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="2c13e6a5621a")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO organisations (id, kind, code, name, credit_limit_fen, payment_terms_days,"
                              " active) VALUES (1, 'dealer', 'D1', '经销商', 0, 0, 1)"))
            conn.execute(text("INSERT INTO users (id, username, password_hash, role, org_id, display_name, locale,"
                              " permissions, active, created_at, session_version)"
                              " VALUES (1, 'd1', 'x', 'dealer', 1, '', 'zh', '', 1, '2026-01-01', 1)"))
            for n, (audience, title, body, link, _) in enumerate(OLD, 1):
                conn.execute(text("INSERT INTO notifications (id, user_id, org_id, audience, kind, title, body, link,"
                                  " dedupe_key, created_at) VALUES (:id, 1, 1, :audience, 'k', :title, :body, :link,"
                                  " :key, '2026-01-01')"),
                             dict(id=n, audience=audience, title=title, body=body, link=link, key=f"k{n}"))
        upgrade(revision="h3_notification_subjects")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT role, subject, subject_id, subject_scope_id, message, params"
                                     " FROM notifications ORDER BY id")).all()
        for (audience, title, body, link, expected), row in zip(OLD, rows):
            assert tuple(row[:4]) == expected
            params = json.loads(row[5]) if isinstance(row[5], str) else row[5]
            assert row[4] == "plain" and params == {"title": title, "body": body}

        downgrade(revision="2c13e6a5621a")
        with db.engine.connect() as conn:
            restored = conn.execute(text("SELECT audience, title, body, link FROM notifications ORDER BY id")).all()
        assert [(r[1], r[2]) for r in restored] == [(o[1], o[2]) for o in OLD]
        assert restored[2][0] == "admin" and all(r[3] == "" for r in restored)
