"""A lived-in world for the English UI test (tests/test_english_ui.py): every role has orders in
many states, made through the real services while the UI language is Chinese (the actors'
language), so whatever those services store for people to read later is in it: automatic
approval and holds, a seller's typed hold and reject reasons, a partial shipment with the rest
cancelled, a delivery with discrepancies, a return, a dealer's replenishment, a rep's order and
visit, invoices and payments, stock lots, a transfer and a count, and an import with errors.

`TYPED` lists the free text people typed here: it is data, shown as typed."""
from __future__ import annotations

from datetime import date

from app.extensions import db
from app.services.credit import invoicing, limits, payments
from app.services.fulfilment import delivery, returns, shipping
from app.services.inventory import counts, transfers
from app.services.ordering import lifecycle
from tests import builders_fulfilment as f
from tests import builders_lifecycle, builders_ordering, builders_rep, builders_stock

TYPED = ("客户要求延期", "价格谈不拢", "仓库缺货不发了", "司机说少装了", "临期，卖不动", "退回仓库", "检查陈列",
         "暂停赊销：拖欠货款", "季度盘点", "调拨备注", "银行转账备注")


def build(world) -> dict:
    """Make the world's records; returns the ids the pages are opened with, by URL parameter."""
    users, orgs = world.users, world.orgs
    dealer, retailer, brand = orgs["dealer"], orgs["retailer"], world.brand
    items = f.products(3)
    warehouse = f.stocked_dealer(world, items)
    builders_lifecycle.stocked_warehouse(brand, world.regions["hz"], {p: 500 for p in items})
    builders_ordering.contract(retailer, items[0], 2000, reference="HT-EN-1")
    builders_ordering.price_list({items[1]: 5000}, channel="kiosk")

    checked_out = builders_lifecycle.checkout(users["retailer"], retailer, [(items[0], 2), (items[1], 1)]).order
    held = builders_lifecycle.checkout(users["retailer"], retailer, [(items[2], 400)]).order  # stock short
    manual = builders_lifecycle.order(retailer, dealer, [(items[0], 1)])
    lifecycle.act_as_seller(dealer.id, manual.id, "on_hold", users["dealer"].id, note=TYPED[0])
    rejected = builders_lifecycle.order(retailer, dealer, [(items[1], 1)])
    lifecycle.act_as_seller(dealer.id, rejected.id, "rejected", users["dealer"].id, note=TYPED[1])

    partial = f.approved_order(world, [(items[0], 4), (items[1], 2)])
    first, second = partial.lines
    shipping.ship(dealer.id, partial.id, users["dealer"].id, carrier="顺丰", tracking_no="SF1",
                  quantities={first.id: 4, second.id: 1}, cancel_rest_reason=TYPED[2])
    invoicing.ensure_invoice(partial.id, users["dealer"].id)

    delivered = f.approved_order(world, [(items[0], 6), (items[1], 3)])
    f.ship_all(world, delivered)
    invoice = invoicing.ensure_invoice(delivered.id, users["dealer"].id)
    a, b = delivered.lines
    delivery.confirm_receipt(retailer.id, delivered.id, users["retailer"].id,
                             {(a.id, "short"): 1, (b.id, "damaged"): 1}, note=TYPED[3])
    ret = returns.request_return(retailer.id, delivered.id, users["retailer"].id, TYPED[4], {a.id: 2})
    returns.accept_return(dealer.id, ret.id, users["dealer"].id, "restock", note=TYPED[5])
    asked = returns.request_return(retailer.id, delivered.id, users["retailer"].id, TYPED[4], {a.id: 1})
    payments.record_payment(users["dealer"], seller=dealer, customer=retailer, method="bank_transfer", amount_fen=1000,
                            received_on=date.today(), reference="TT-1", note=TYPED[10])

    replenishment = builders_lifecycle.checkout(users["dealer"], dealer, [(items[0], 10)]).order
    held_replenishment = builders_lifecycle.checkout(users["dealer"], dealer, [(items[2], 600)]).order  # brand short
    rep_order = builders_lifecycle.checkout(users["rep"], retailer, [(items[1], 1)]).order
    builders_rep.visit(users["rep"], retailer, note=TYPED[6])
    builders_rep.target(users["rep"], date.today().replace(day=1), 1_000_000)
    limits.update_settings(users["admin"], retailer, credit_limit_fen=100_000, payment_terms_days=30,
                           allow_credit=True, on_hold=True, hold_reason=TYPED[7])

    other = builders_stock.warehouse(dealer, world.regions["hz"])
    transfer = transfers.create_transfer(warehouse, other, {items[0].id: 3}, actor_id=users["dealer"].id,
                                         note=TYPED[9])
    count = counts.open_count(warehouse.id, actor_id=users["dealer"].id, note=TYPED[8])
    campaigns = _groupbuys(world, items)
    db.session.commit()
    return {
        "order_id": {"retailer": [checked_out.id, held.id, manual.id, rejected.id, partial.id, delivered.id],
                     "dealer": [checked_out.id, held.id, manual.id, rejected.id, partial.id, delivered.id,
                                replenishment.id, held_replenishment.id],
                     "admin": [replenishment.id, held_replenishment.id], "rep": [rep_order.id, delivered.id]},
        "return_id": [asked.id, ret.id],
        "invoice_id": [invoice.id],
        "warehouse_id": [warehouse.id],
        "transfer_id": [transfer.id],
        "count_id": [count.id],
        "retailer_id": [retailer.id],
        "customer_id": [retailer.id],
        "product_id": [items[0].id],
        "campaign_id": {"retailer": campaigns, "dealer": campaigns[:2], "admin": campaigns},
    }


def _groupbuys(world, items) -> list[int]:
    """The shop's group-buys: one running with its commitment, one closed on a tier with a credit
    note, the brand's for the province failed with the order cancelled (stored reasons)."""
    from app.services.campaigns.groupbuy import commit_quantity
    from app.services.campaigns.groupbuy_close import close_campaign
    from tests import builders_groupbuy as gb

    user, retailer = world.users["retailer"], world.orgs["retailer"]
    running = gb.campaign(world.orgs["dealer"], items[0])
    commit_quantity(user, retailer, running.id, 20)
    won = gb.campaign(world.orgs["dealer"], items[1], tiers=((20, 4500),), min_pool=20)
    commit_quantity(user, retailer, won.id, 10)
    other_user, other_shop = gb.shop_of(world)
    commit_quantity(other_user, other_shop, won.id, 15)
    close_campaign(won.id, early=True)
    lost = gb.campaign(world.brand, items[2], region=world.regions["zj"], min_pool=500)
    commit_quantity(user, retailer, lost.id, 10)
    close_campaign(lost.id, early=True)
    return [running.id, won.id, lost.id]
