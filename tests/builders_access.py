"""Records owned by "the other side" for the access matrix (tests/test_access_matrix.py).

Each builder takes an `Other` (the role under test, seen from the world fixture) and returns the
value for one URL parameter: the id of a record that belongs to the *_b* organisation of that
role (dealer → dealer_b, retailer → retailer_b, rep → rep_b's customer retailer_b). Text that must
never reach the caller (names, numbers) goes into `other.secrets`.

Models are looked up by name when a builder runs, so a builder for a model that does not exist
yet fails only when a route actually uses its parameter, with a message saying so."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

from sqlalchemy import select

from app import models
from app.extensions import db
from app.models import Organisation, User
from tests import factories

_seq = itertools.count(1)


class BuilderError(Exception):
    """A builder could not make its record (model missing or changed)."""


@dataclass
class Other:
    world: factories.World
    role: str  # the blueprint under test: admin, dealer, retailer, rep
    endpoint: str
    secrets: set[str] = field(default_factory=set)
    _made: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> User:
        """The other user of the same role (dealer2, retailer2, rep2, admin2)."""
        return self.world.users[f"{self.role}_b"]

    @property
    def dealer(self) -> Organisation:
        return self.world.orgs["dealer_b"]

    @property
    def retailer(self) -> Organisation:
        """retailer_b: served by dealer_b and on rep_b's route, so foreign to every role's _a side."""
        return self.world.orgs["retailer_b"]

    @property
    def org(self) -> Organisation:
        """The organisation whose records the role under test must not reach."""
        return {"dealer": self.dealer, "retailer": self.retailer, "rep": self.retailer,
                "admin": self.world.brand}[self.role]

    @property
    def buyer(self) -> Organisation:
        """Who buys in the other side's carts: a dealer buys for itself, reps buy for shops."""
        return self.dealer if self.role == "dealer" else self.retailer

    def once(self, key: str, build: Callable[[], Any]) -> Any:
        """Build a record once per test, so two parameters can share it (an order and its line)."""
        if key not in self._made:
            self._made[key] = build()
        return self._made[key]

    def hide(self, *texts: str | None) -> None:
        self.secrets.update(t for t in texts if t)


def make(model_name: str, **values) -> Any:
    model = getattr(models, model_name, None)
    if model is None:
        raise BuilderError(f"app.models has no {model_name} (yet): the builder cannot make one")
    record = model(**values)
    db.session.add(record)
    db.session.flush()
    return record


def code(prefix: str) -> str:
    return f"{prefix}{next(_seq):06d}"


# --- builders ----------------------------------------------------------------------------------

def other_product(o: Other):
    """An active product shown only in the other side's region (成都): invisible to the _a side."""
    def build():
        product = factories.product(name_zh=f"成都限定{next(_seq)}", name_en=f"Chengdu only {next(_seq)}")
        make("ProductVisibility", product_id=product.id, region_id=o.world.regions["cd"].id)
        o.hide(product.name_zh, product.name_en, product.code)
        return product
    return o.once("product", build)


def other_order(o: Other):
    """retailer_b's order to dealer_b, with one line."""
    def build():
        product = other_product(o)
        order = make("Order", number=code("SOX"), buyer_id=o.retailer.id, seller_id=o.dealer.id,
                     placed_by_id=o.world.users["retailer_b"].id, line_count=1, total_fen=4800, tax_fen=552,
                     note="机密备注")
        make("OrderLine", order_id=order.id, product_id=product.id, qty=1, unit_price_fen=4800, tax_rate=13,
             line_total_fen=4800, tax_fen=552)
        o.hide(order.number, o.retailer.name, o.dealer.name, "机密备注")
        return order
    return o.once("order", build)


def other_order_line(o: Other):
    return other_order(o).lines[0]


def other_cart_line(o: Other):
    def build():
        return make("CartLine", owner_id=o.user.id, buyer_id=o.buyer.id, product_id=other_product(o).id, qty=3)
    return o.once("cart_line", build)


def other_price_list(o: Other):
    def build():
        if o.role == "dealer":
            targeting = {"audience": "dealer", "tier": o.dealer.tier}
        else:
            targeting = {"audience": "retailer", "channel": o.retailer.channel}
        price_list = make("PriceList", code=code("PLX"), name=f"成都专用价{next(_seq)}",
                          region_id=o.world.regions["cd"].id, **targeting)
        o.hide(price_list.code, price_list.name)
        return price_list
    return o.once("price_list", build)


def other_price_list_item(o: Other):
    return make("PriceListItem", price_list_id=other_price_list(o).id, product_id=other_product(o).id,
                min_qty=1, price_fen=4321)


def other_contract(o: Other):
    customer = o.dealer if o.role == "dealer" else o.retailer
    contract = make("ContractPrice", customer_id=customer.id, product_id=other_product(o).id, min_qty=1,
                    price_fen=3999, reference=code("HTX"))
    o.hide(contract.reference)
    return contract


def a_category(o: Other):
    """Categories are the brand's: there is no other side's category."""
    return factories.category()


def a_points_gift(o: Other):
    """The points catalog is the brand's, the same for every retailer."""
    return make("PointsGift", product_id=factories.product().id, points_price=1_000, stock_cap=10, claimed=0,
                active=True)


def other_user(o: Other):
    o.hide(o.user.username)
    return o.user


def other_route(o: Other):
    rep_b = o.world.users["rep_b"]
    return db.session.scalar(select(models.RepRoute).where(models.RepRoute.rep_id == rep_b.id))


def other_retailer(o: Other):
    o.hide(o.retailer.name)
    return o.retailer


def other_dealer(o: Other):
    o.hide(o.dealer.name)
    return o.dealer


def other_customer(o: Other):
    return other_dealer(o) if o.role == "dealer" else other_retailer(o)


def other_warehouse(o: Other):
    """A warehouse of dealer_b (the brand's own for admin routes)."""
    def build():
        owner = o.world.brand if o.role == "admin" else o.dealer
        warehouse = make("Warehouse", code=code("WHX"), name=f"成都仓{next(_seq)}", owner_id=owner.id,
                         region_id=o.world.regions["cd"].id)
        o.hide(warehouse.code, warehouse.name)
        return warehouse
    return o.once("warehouse", build)


def other_lot(o: Other):
    lot = make("StockLot", warehouse_id=other_warehouse(o).id, product_id=other_product(o).id,
               batch_no=code("LOTX"), production_date=date.today(), expiry_date=date.today() + timedelta(days=300),
               on_hand=10)
    o.hide(lot.batch_no)
    return lot


def other_transfer(o: Other):
    source = other_warehouse(o)
    dest = make("Warehouse", code=code("WHX"), name=f"成都二仓{next(_seq)}", owner_id=source.owner_id,
                region_id=source.region_id)
    transfer = make("Transfer", number=code("TRX"), source_id=source.id, dest_id=dest.id)
    o.hide(transfer.number, dest.name)
    return transfer


def other_visibility_rule(o: Other):
    product = other_product(o)
    return db.session.scalars(select(models.ProductVisibility)
                              .where(models.ProductVisibility.product_id == product.id)).first()


def other_batch(o: Other):
    """An upload batch made by the other user: a stock sync file on stock pages, else a product
    import (on admin pages its kind decides the permission needed)."""
    kind = "stock" if "stock" in o.endpoint else "products"
    batch = make("ImportBatch", kind=kind, filename=f"{code('UPX')}.csv", created_by=o.user.id)
    o.hide(batch.filename)
    return batch


def other_count(o: Other):
    count = make("StockCount", warehouse_id=other_warehouse(o).id, note="成都盘点机密", created_by_id=o.user.id)
    o.hide(count.note)
    return count


def other_notification(o: Other):
    """A notification held by the other user of the same role."""
    title = f"成都库存告急{next(_seq)}"
    notice = make("Notification", user_id=o.user.id, org_id=o.user.org_id, role=o.role,
                  kind="stock.low_stock", message="plain", params={"title": title, "body": ""})
    o.hide(title)
    return notice


def other_invoice(o: Other):
    order = other_order(o)
    invoice = make("Invoice", number=code("INVX"), order_id=order.id, seller_id=order.seller_id,
                   buyer_id=order.buyer_id, total_fen=order.total_fen, tax_fen=order.tax_fen)
    o.hide(invoice.number)
    return invoice


def other_document(o: Other):
    """A ready invoice PDF of the other side's order (admin routes: the same, brand-wide)."""
    document = make("Document", kind="invoice", order_id=other_order(o).id, status="ready",
                    filename=f"{code('INVX')}.pdf", pdf=b"%PDF-1.4 secret", byte_size=15)
    o.hide(document.filename)
    return document


def literal(value: str) -> Callable[[Other], str]:
    """A parameter that names no record (an import kind, a file format)."""
    return lambda o: value


def other_return(o: Other):
    """A return request on the other side's order (retailer_b → dealer_b)."""
    order = other_order(o)
    request = make("ReturnRequest", number=code("RTX"), order_id=order.id, buyer_id=order.buyer_id,
                   seller_id=order.seller_id, reason="成都退货机密原因", amount_fen=4800)
    make("ReturnLine", return_id=request.id, order_line_id=order.lines[0].id, product_id=order.lines[0].product_id,
         qty=1)
    o.hide(request.number, "成都退货机密原因")
    return request


def other_promotion(o: Other):
    """A promotion of the other side (dealer_b's own for dealers; the brand's for admins, where the
    permissionless admin must be refused)."""
    def build():
        from app.services.core.clock import now_utc

        owner = o.dealer if o.role == "dealer" else o.world.brand
        promotion = make("Promotion", code=code("PRX"), name=f"成都专享{next(_seq)}", kind="percent_off", lane="item",
                         rule={"percent_x100": 500}, product_ids=[], category_ids=[], audience={}, owner_id=owner.id,
                         starts_at=now_utc(), ends_at=now_utc() + timedelta(days=1), status="draft")
        o.hide(promotion.name)
        return promotion
    return o.once("promotion", build)


def other_customer_group(o: Other):
    """A customer group (admin routes only, brand-wide: the permissionless admin must be refused)."""
    def build():
        group = make("CustomerGroup", code=code("CG"), name=f"重点客户{next(_seq)}")
        o.hide(group.name)
        return group
    return o.once("customer_group", build)


def other_settlement(o: Other):
    """A draft promotion settlement for the other dealer (admin routes only: the permissionless
    admin must be refused)."""
    def build():
        from app.services.core.clock import today_local

        run = make("SettlementRun", period_start=today_local() - timedelta(days=next(_seq)), period_end=today_local(),
                   passes=1)
        return make("PromotionSettlement", run_id=run.id, dealer_id=o.world.orgs["dealer_b"].id, earned_fen=1_000,
                    settled_before_fen=0, amount_fen=1_000, redemptions=1, status="draft")
    return o.once("settlement", build)


def a_settlement_run(o: Other):
    """The promotion settlement run of `other_settlement` (the brand's: admin routes only, the
    permissionless admin must be refused)."""
    return other_settlement(o).run


def other_rebate_agreement(o: Other):
    """An active rebate agreement of dealer_b (the brand's, for admins: the permissionless admin
    must be refused), with an accrual whose source number the page must not show."""
    def build():
        from app.services.core.clock import today_local

        agreement = make("RebateAgreement", code=code("RBX"), name=f"成都返利{next(_seq)}", dealer_id=o.dealer.id,
                         period="quarter", basis="invoiced", scope="all", mode="flat", rate_bp=200, tiers=[],
                         product_ids=[], category_ids=[], payout="credit_note", balance_share_pct=0,
                         starts_on=today_local(), status="active")
        make("RebateAccrual", agreement_id=agreement.id, dealer_id=o.dealer.id, period_start=today_local(),
             occurred_on=today_local(), source_kind="invoice", source_id=next(_seq), source_ref=code("INVX"),
             base_value=12_345)
        o.hide(agreement.name)
        return agreement
    return o.once("rebate_agreement", build)


def other_rebate_settlement(o: Other):
    """A draft rebate settlement for the other dealer (admin routes only)."""
    def build():
        from app.services.core.clock import today_local

        agreement = other_rebate_agreement(o)
        run = make("RebateRun", as_of=today_local() - timedelta(days=next(_seq)), passes=1)
        return make("RebateSettlement", run_id=run.id, agreement_id=agreement.id, dealer_id=o.dealer.id,
                    period_start=today_local(), period_end=today_local(), base_value=1, earned_fen=1_000,
                    settled_before_fen=0, amount_fen=1_000, payout="credit_note", status="draft", posted_fen=0,
                    outstanding_fen=0)
    return o.once("rebate_settlement", build)


def other_groupbuy(o: Other):
    """An open group-buy of the other side: dealer_b's (for its shops, retailer_b's territory) for
    dealers and retailers; the brand's for a region for admins (the permissionless admin is refused)."""
    def build():
        from app.services.core.clock import now_utc

        owner = o.world.brand if o.role == "admin" else o.dealer
        campaign = make("GroupBuyCampaign", name=f"成都集单{next(_seq)}", owner_id=owner.id,
                        region_id=o.world.regions["cd"].id if o.role == "admin" else None,
                        product_id=other_product(o).id, starts_at=now_utc() - timedelta(hours=1),
                        ends_at=now_utc() + timedelta(days=1), base_price_fen=5000, min_pool_qty=500,
                        min_per_retailer=1, pool_qty=0, status="open")
        o.hide(campaign.name)
        return campaign
    return o.once("groupbuy", build)


def other_served_groupbuy(o: Other):
    """A brand group-buy in which retailer_b (served by dealer_b) committed: only dealer_b may
    open its shops page."""
    def build():
        from app.services.core.clock import now_utc

        order = other_order(o)
        campaign = make("GroupBuyCampaign", name=f"四川全省集单{next(_seq)}", owner_id=o.world.brand.id,
                        region_id=o.world.regions["cd"].id, product_id=other_product(o).id,
                        starts_at=now_utc() - timedelta(hours=1), ends_at=now_utc() + timedelta(days=1),
                        base_price_fen=4800, min_pool_qty=500, min_per_retailer=1, pool_qty=1, status="open")
        make("GroupBuyCommitment", campaign_id=campaign.id, retailer_id=o.retailer.id, seller_id=o.dealer.id,
             order_id=order.id, qty=1, committed_price_fen=4800, status="active")
        o.hide(campaign.name)
        return campaign
    return o.once("served_groupbuy", build)


def other_payment_intent(o: Other):
    """An online top-up of the other side (a retailer's with its dealer, a dealer's with the brand);
    the URL names it by its reference."""
    payer = o.buyer
    seller = o.dealer if payer.kind == "retailer" else o.world.brand
    intent = make("PaymentIntent", reference=code("PIXOTHER") + "0" * 10, purpose="topup", payer_id=payer.id,
                  seller_id=seller.id, amount_fen=4_321, refunded_fen=0, status="created", provider="sandbox",
                  checkout_url="/payments/sandbox/x")
    o.hide("43.21")  # its amount (the reference is in the URL itself, which error pages may echo)
    return intent.reference


def a_presale_campaign(o: Other):
    """An open presale campaign taking deposits today (the brand's; one product)."""
    def build():
        from app.services.core.clock import today_local

        today = today_local()
        campaign = make("PresaleCampaign", code=code("PSX"), name=f"成都预售机密{next(_seq)}", status="open",
                        deposit_pct=30, non_payment="refund", deposit_opens_on=today - timedelta(days=1),
                        deposit_closes_on=today + timedelta(days=3), release_on=today + timedelta(days=5),
                        balance_opens_on=today + timedelta(days=5), balance_closes_on=today + timedelta(days=9))
        make("PresaleItem", campaign_id=campaign.id, product_id=other_product(o).id, price_fen=4_800,
             planned_qty=100, committed_qty=1)
        return campaign
    return o.once("presale_campaign", build)


def a_presale_item(o: Other):
    return a_presale_campaign(o).items[0]


def other_presale_order(o: Other):
    """retailer_b's presale order (routed to dealer_b) in the campaign above."""
    def build():
        order = other_order(o)
        item = a_presale_item(o)
        return make("PresaleOrder", order_id=order.id, campaign_id=item.campaign_id, item_id=item.id,
                    buyer_id=order.buyer_id, seller_id=order.seller_id, qty=1, total_fen=4_800, deposit_fen=1_440,
                    balance_fen=3_360, deposit_paid_fen=1_440, balance_paid_fen=0, applied_fen=0, balance="due")
    return o.once("presale_order", build)
