"""A promotion's files: the product list exported as XLSX and replaced from an upload (unknown
codes named next to the field, nothing changed), a coupon batch's codes as CSV and XLSX, and
another dealer's promotion a 404."""
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Promotion
from tests import builders_promotions as bp
from tests import factories


@pytest.fixture
def marketing(world, login_as):
    world.users["admin"].permissions = "marketing"
    db.session.commit()
    return login_as("admin")


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_product_list_goes_out_as_xlsx_and_comes_back_from_an_upload(marketing, world, app):
    with app.test_request_context():
        tea, cup, jam = (factories.product(name_zh=n) for n in ("红茶", "杯子", "果酱"))
        promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 500},
                             product_ids=[tea.id], status="draft")
    out = marketing.get(f"/admin/promotions/{promo.id}/products.xlsx")
    assert out.status_code == 200
    sheet = load_workbook(io.BytesIO(out.data)).active
    assert [[c.value for c in r] for r in sheet.iter_rows()][1:] == [[tea.code, "红茶"]]
    assert marketing.get(f"/admin/promotions/{promo.id}/products").status_code == 200

    bad = marketing.post(f"/admin/promotions/{promo.id}/products", {
        "file": (io.BytesIO(_xlsx([["商品编码"], [cup.code], ["NOPE-1"]])), "list.xlsx")},
        content_type="multipart/form-data")
    assert bad.status_code == 400 and 'id="file-msg"' in bad.get_data(as_text=True)
    assert "NOPE-1" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Promotion, promo.id).product_ids == [tea.id]

    good = marketing.post(f"/admin/promotions/{promo.id}/products", {
        "file": (io.BytesIO(_xlsx([["商品编码"], [cup.code], [jam.code.lower()]])), "list.xlsx")},
        content_type="multipart/form-data")
    assert good.status_code in (302, 303)
    db.session.expire_all()
    assert sorted(db.session.get(Promotion, promo.id).product_ids) == sorted([cup.id, jam.id])
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "promotion.update")) is not None


def test_a_coupon_batch_exports_its_unique_codes(marketing, world, app):
    with app.test_request_context():
        promo, codes = bp.coupon(world.users["admin"], world.brand, off_fen=500, code=None, max_uses=1,
                                 customer_ids=[world.orgs["retailer"].id, world.orgs["retailer_b"].id])
    csv_out = marketing.get(f"/admin/promotions/{promo.id}/coupons.csv")
    assert csv_out.status_code == 200 and csv_out.mimetype == "text/csv"
    lines = csv_out.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("券码") and len(lines) == 3
    assert {line.split(",")[0] for line in lines[1:]} == {c.code for c in codes}
    assert world.orgs["retailer_b"].code in csv_out.get_data(as_text=True)
    xlsx_out = marketing.get(f"/admin/promotions/{promo.id}/coupons.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx_out.data)).active.iter_rows(values_only=True))
    assert len(rows) == 3 and {r[0] for r in rows[1:]} == {c.code for c in codes}
    assert marketing.get(f"/admin/promotions/{promo.id}/coupons.pdf").status_code == 404


def test_another_dealers_promotion_files_are_a_404(world, login_as, app):
    with app.test_request_context():
        theirs = bp.promotion(world.users["dealer_b"], world.orgs["dealer_b"], "percent_off", {"percent_x100": 500})
    client = login_as("dealer")
    assert client.get(f"/dealer/promotions/{theirs.id}/products.xlsx").status_code == 404
    assert client.get(f"/dealer/promotions/{theirs.id}/coupons.csv").status_code == 404
