"""The audit log reads in the UI language for every action the code records: the actions of
promotions, presale, group-buy, rebates, loyalty, payments, invoicing and sign-off showed their codes
(`groupbuy.close`, `groupbuy_campaign #3`, `open → closed`, `pool`, `failed`) on the Chinese page."""
import pathlib
import re

import pytest

from app.extensions import db
from app.services.core import audit
from app.services.core.audit_readable import ACTION_LABELS, ENTITY_LABELS

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def admin(login_as):
    return login_as("admin")


RECORD = re.compile(r"audit\.record\(\s*[^,]+,\s*(f?)\"([a-z_.{}]+)\",\s*\"([a-z_]+)\"")


def _recorded() -> set[tuple[str, str, str]]:
    found = set()
    for path in (ROOT / "app").rglob("*.py"):
        for match in RECORD.finditer(path.read_text(encoding="utf-8")):
            found.add((match.group(2), match.group(3), str(path.relative_to(ROOT))))
    return found


def test_every_recorded_action_and_entity_has_a_label():
    recorded = _recorded()
    assert len(recorded) > 60  # the scan finds the calls
    transfer_states = {f"transfer.{state}" for state in ("created", "shipped", "received", "cancelled")}
    actions = {action for action, _entity, _path in recorded if "{" not in action} | transfer_states
    missing_actions = sorted(a for a in actions if a not in ACTION_LABELS)
    missing_entities = sorted({e for _a, e, _p in recorded if e not in ENTITY_LABELS})
    assert not missing_actions, missing_actions
    assert not missing_entities, missing_entities


def test_group_buy_and_settlement_events_read_in_chinese_and_english(admin, world):
    actor = world.users["admin"].id
    dealer = world.orgs["dealer"]
    audit.record(actor, "groupbuy.close", "groupbuy_campaign", 3, {"status": "open"},
                 {"status": "closed", "result": "failed", "pool": 130, "credited_fen": 0})
    audit.record(actor, "rebate_settlement.approve", "rebate_settlement", 7, {"status": "draft"},
                 {"status": "approved", "dealer_id": dealer.id, "payout": "credit_note", "posted_fen": 12345})
    audit.record(actor, "order.submit", "order", 5, None, {"number": "SO1", "kind": "groupbuy"})
    db.session.commit()
    html = admin.get("/admin/audit").get_data(as_text=True)
    for text in ("结束团购", "团购活动 #3", "<ins>已结束</ins>", "<ins>未成团</ins>", "累计认购（箱）",
                 "批准返利结算", "返利结算 #7", f"{dealer.name} (#{dealer.id})", "<ins>¥123.45</ins>", "入账金额"):
        assert text in html, text
    assert "groupbuy_campaign #3" not in html and "<ins>failed</ins>" not in html and "<ins>closed</ins>" not in html
    assert "<ins>groupbuy</ins>" not in html and "posted_fen" not in html
    admin.post("/locale", {"locale": "en", "next": "/admin/audit"})
    english = admin.get("/admin/audit").get_data(as_text=True)
    assert "Closed group-buy" in english and "Approved rebate settlement" in english and "结束团购" not in english
