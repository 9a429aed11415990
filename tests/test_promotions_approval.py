"""Above the configured cost (a budget above it, or none), a brand promotion goes live only once
an admin other than its author approved its terms; a dealer's own promotions need no approval;
changing the terms asks for a new approval, changing only the status does not."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Promotion
from tests.test_promotions_admin import form


@pytest.fixture
def admins(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "PROMOTION_APPROVAL_ABOVE_FEN", 5_000_000)  # ¥50,000
    second = world.users["admin_b"]
    world.users["admin"].permissions = second.permissions = "marketing"
    db.session.commit()
    return login_as("admin"), login_as("admin_b")


def test_a_costly_promotion_needs_a_second_admin(admins, world):
    author, other = admins
    refused = author.post("/admin/promotions/new", form(budget_fen="80000"))
    assert refused.status_code in (400, 422)
    assert "须由另一位管理员批准" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Promotion)) is None  # nothing half-saved

    assert author.post("/admin/promotions/new", form(budget_fen="80000", status="draft")).status_code == 303
    row = db.session.scalar(select(Promotion))
    own = author.get(f"/admin/promotions/{row.id}/edit").get_data(as_text=True)
    assert "尚未批准" in own and "批准此促销" not in own
    assert author.post(f"/admin/promotions/{row.id}/approve", {}).status_code == 303  # refused with a message
    db.session.expire_all()
    assert db.session.get(Promotion, row.id).status == "draft"

    page = other.get(f"/admin/promotions/{row.id}/edit").get_data(as_text=True)
    assert "批准此促销" in page
    assert other.post(f"/admin/promotions/{row.id}/approve", {}).status_code == 303
    db.session.expire_all()
    row = db.session.get(Promotion, row.id)
    assert (row.status, row.approved_by_id, row.authored_by_id) == (
        "approved", world.users["admin_b"].id, world.users["admin"].id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "promotion.approve")) is not None

    # the author may now switch it on: the terms are the approved ones
    assert author.post(f"/admin/promotions/{row.id}/edit", form(budget_fen="80000", status="active")).status_code == 303
    # raising the budget is new terms: back to draft until someone else approves again
    raised = author.post(f"/admin/promotions/{row.id}/edit", form(budget_fen="90000", status="active"))
    assert raised.status_code in (400, 422) and "须由另一位管理员批准" in raised.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(Promotion, row.id).budget_fen, db.session.get(Promotion, row.id).status) == (8_000_000, "active")


def test_a_cheap_promotion_or_a_dealers_own_needs_no_approval(admins, login_as):
    author, _ = admins
    assert author.post("/admin/promotions/new", form(budget_fen="30000")).status_code == 303
    dealer = login_as("dealer")
    assert dealer.post("/dealer/promotions/new", form(code="dealer-1")).status_code == 303
    assert {row.status for row in db.session.scalars(select(Promotion))} == {"active"}
