"""The demo data's inventory step: warehouses for the brand and every dealer, a ledger that
`flask stock verify` accepts, and something for the alert pages to show."""
from sqlalchemy import func, select

from app.demo.builder import build
from app.extensions import db
from app.models import Organisation, ReorderRule, StockBalance, StockLot, Warehouse
from app.services.inventory.alerts import scan_stock_alerts
from app.services.inventory.verify import verify_stock


def test_demo_inventory_is_consistent_and_alerts(app):
    ctx = build("tiny", echo=lambda line: None)
    assert db.session.scalar(select(func.count()).select_from(Warehouse).where(Warehouse.owner_id == ctx.brand_id)) == 2
    dealers_with_warehouse = db.session.scalar(select(func.count(func.distinct(Warehouse.owner_id))).join(
        Organisation, Organisation.id == Warehouse.owner_id).where(Organisation.kind == "dealer"))
    assert dealers_with_warehouse == len(ctx.dealers)
    assert db.session.scalar(select(func.count()).select_from(StockBalance)) == \
        db.session.scalar(select(func.count()).select_from(ReorderRule)) > 0
    assert verify_stock() == []
    result = scan_stock_alerts()
    db.session.commit()
    assert result.opened["low_stock"] > 0 and result.opened["near_expiry"] > 0
    assert db.session.scalar(select(func.min(StockLot.on_hand))) >= 0
    runner = app.test_cli_runner()
    assert runner.invoke(args=["stock", "verify"]).exit_code == 0
