"""Destructive actions ask first, with and without JavaScript (app/web/common/confirm.py): a plain
POST gets a confirm page that posts the same fields again with confirmed=1; the htmx form asks
with hx-confirm and sends confirmed=1 itself. Nothing changes before the confirmation. The
retailer cancels its own order that way, and reads its statement."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, PriceListItem
from app.services.core.clock import today_local
from tests import builders_credit as credit_build
from tests import factories
from tests.builders_catalog import list_item, price_list
from tests.builders_fulfilment import status_of
from tests.builders_lifecycle import order as make_order
from tests.builders_lifecycle import shown


def text(response):
    return response.get_data(as_text=True)


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


# ---- deleting a price row -----------------------------------------------------------------------

def test_deleting_a_price_row_asks_first_without_javascript(login_as, world):
    product = factories.product(code="TEA-9", name_zh="冰红茶", base_price_fen=4000)
    plist = price_list("RT")
    item = list_item(plist, product, 3500)
    db.session.commit()
    admin = login_as("admin")
    detail = text(admin.get(f"/admin/price-lists/{plist.id}"))
    assert 'hx-confirm="删除 冰红茶 起订 1 的价格？"' in detail and "hx-vals='{\"confirmed\": \"1\"}'" in detail

    url = f"/admin/price-lists/{plist.id}/items/{item.id}/delete?page=1"
    asked = admin.post(url)
    page = text(asked)
    assert asked.status_code == 200 and "删除 冰红茶 起订 1 的价格？" in page and "<html" in page
    assert f'action="{url}"' in page and hidden(page)["confirmed"] == "1" and "csrf_token" in hidden(page)
    assert f"/admin/price-lists/{plist.id}" in page  # the way back
    assert db.session.scalar(select(func.count()).select_from(PriceListItem)) == 1

    done = admin.post(url, {k: v for k, v in hidden(page).items() if k != "csrf_token"})
    assert done.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(PriceListItem)) == 0


def test_an_htmx_request_that_skipped_the_browser_question_gets_the_card_in_place(login_as, world):
    product = factories.product(code="TEA-8", base_price_fen=4000)
    plist = price_list("RT2")
    item = list_item(plist, product, 3500)
    db.session.commit()
    asked = login_as("admin").post(f"/admin/price-lists/{plist.id}/items/{item.id}/delete", htmx=True)
    assert asked.status_code == 200 and "<html" not in text(asked) and 'id="confirm"' in text(asked)
    assert asked.headers["HX-Retarget"] == "#main" and asked.headers["HX-Reswap"] == "innerHTML"
    assert db.session.get(PriceListItem, item.id) is not None


def test_another_organisations_record_is_404_before_any_question(login_as, world):
    seller = world.orgs["dealer_b"]
    theirs = make_order(world.orgs["retailer_b"], seller, [(factories.product(), 2)])
    db.session.commit()
    dealer = login_as("dealer")
    assert dealer.post(f"/dealer/orders/{theirs.id}/reject", {"note": "x", "seen": "submitted"}).status_code == 404
    assert login_as("retailer").post(f"/retailer/orders/{theirs.id}/cancel", {"note": "x"}).status_code == 404
    assert status_of(theirs) == "submitted"


# ---- rejecting an order on the desk -------------------------------------------------------------

def test_rejecting_an_order_asks_first_and_keeps_the_reason(login_as, world):
    order = make_order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 2)])
    db.session.commit()
    dealer = login_as("dealer")
    detail = text(dealer.get(f"/dealer/orders/{order.id}"))
    assert f'hx-confirm="拒绝订单 {order.number}？"' in detail

    asked = dealer.post(f"/dealer/orders/{order.id}/reject", {"note": "超出配送范围", "seen": "submitted"})
    page = text(asked)
    assert asked.status_code == 200 and f"拒绝订单 {order.number}？" in page and "超出配送范围" in page
    assert hidden(page)["note"] == "超出配送范围" and hidden(page)["seen"] == "submitted"
    assert status_of(order) == "submitted"
    # Without a reason there is nothing to confirm: the message goes next to the field.
    missing = dealer.post(f"/dealer/orders/{order.id}/reject", {"note": "", "seen": "submitted"})
    assert missing.status_code == 400 and "请填写原因" in text(missing)

    done = dealer.post(f"/dealer/orders/{order.id}/reject", {k: v for k, v in hidden(page).items() if k != "csrf_token"})
    assert done.status_code == 303 and status_of(order) == "rejected"


# ---- the retailer cancels its own order ---------------------------------------------------------

def test_a_retailer_cancels_its_order_before_approval_after_confirming(login_as, world):
    order = make_order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 2)])
    db.session.commit()
    retailer = login_as("retailer")
    detail = text(retailer.get(f"/retailer/orders/{order.id}"))
    assert f"/retailer/orders/{order.id}/cancel" in detail and f'hx-confirm="取消订单 {order.number}？"' in detail

    missing = retailer.post(f"/retailer/orders/{order.id}/cancel", {"note": ""})
    assert missing.status_code == 400 and 'id="note-msg"' in text(missing) and status_of(order) == "submitted"
    fragment = retailer.post(f"/retailer/orders/{order.id}/cancel", {"note": ""}, htmx=True)
    assert fragment.status_code == 422 and "<html" not in text(fragment) and 'id="order-cancel"' in text(fragment)

    asked = retailer.post(f"/retailer/orders/{order.id}/cancel", {"note": "买多了"})
    assert asked.status_code == 200 and "确认取消订单" in text(asked) and status_of(order) == "submitted"
    done = retailer.post(f"/retailer/orders/{order.id}/cancel", {"note": "买多了", "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"] == f"/retailer/orders/{order.id}"
    assert status_of(order) == "cancelled"
    page = text(retailer.get(f"/retailer/orders/{order.id}"))
    assert "已取消" in page and f"/retailer/orders/{order.id}/cancel" not in page
    told = db.session.scalars(select(Notification).where(Notification.kind == "order_cancelled")).all()
    assert told and {n.org_id for n in told} == {world.orgs["dealer"].id}  # the dealer's desk is told
    assert f"客户取消了订单 {order.number}" == shown(told[0]).title and shown(told[0]).body == "买多了"


def test_an_approved_order_can_no_longer_be_cancelled_by_the_retailer(login_as, world):
    order = make_order(world.orgs["retailer"], world.orgs["dealer"], [(factories.product(), 2)], status="approved")
    db.session.commit()
    retailer = login_as("retailer")
    assert f"/retailer/orders/{order.id}/cancel" not in text(retailer.get(f"/retailer/orders/{order.id}"))
    refused = retailer.post(f"/retailer/orders/{order.id}/cancel", {"note": "买多了", "confirmed": "1"})
    assert refused.status_code == 409 and "不能再取消" in text(refused) and status_of(order) == "approved"


# ---- the retailer's statement -------------------------------------------------------------------

def test_the_retailer_reads_its_own_statement(login_as, world):
    retailer, dealer = world.orgs["retailer"], world.orgs["dealer"]
    credit_build.invoice(retailer, dealer, 12_000, issued_at=credit_build.days_ago(6))
    credit_build.invoice(retailer, dealer, 8_000, issued_at=credit_build.days_ago(1))
    credit_build.invoice(world.orgs["retailer_b"], world.orgs["dealer_b"], 5_500)
    db.session.commit()
    c = login_as("retailer")
    assert "/retailer/statement" in text(c.get("/retailer/orders"))
    url = f"/retailer/statement?start={(today_local() - timedelta(days=30)).isoformat()}"
    page = c.get(url)
    html = text(page)
    assert page.status_code == 200 and "对账单" in html and "¥120.00" in html and "¥80.00" in html
    assert "¥200.00" in html  # the balance owed
    assert "¥55.00" not in html  # another retailer's invoice
    assert '<th class="kind">' in html and "data-print" in html
    fragment = text(c.hx_get(url))
    assert "<html" not in fragment and "¥200.00" in fragment
    bad = c.get("/retailer/statement?start=2026-13-01")
    assert bad.status_code == 400
