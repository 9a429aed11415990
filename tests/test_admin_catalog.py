"""Admin catalog pages: categories, products (with image and visibility rules), media, audit log."""
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Category, Product, ProductImage, ProductVisibility
from tests import factories
from tests.builders_catalog import field_error, gtin13, image_bytes, upload, visibility


def product_form(category, **overrides) -> dict:
    data = {"code": "NF-500", "gtin": gtin13(1), "category_id": str(category.id), "name_zh": "农夫山泉饮用天然水",
            "name_en": "Nongfu Spring", "spec": "550ml×24", "unit": "箱", "pack_size": "24", "min_order_qty": "2",
            "order_multiple": "2", "shelf_life_days": "730", "tax_rate": "13", "status": "active",
            "launch_date": "2024-03-01", "base_price": "48.50"}
    data.update(overrides)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def category(world):
    cat = factories.category(code="WATER", name_zh="饮用水", name_en="Water")
    db.session.commit()
    return cat


@pytest.fixture
def admin(login_as):
    return login_as("admin")


# --- products: create and edit ------------------------------------------------------------

def test_create_product_saves_converts_price_and_audits(admin, world, category):
    data = product_form(category, image=upload(image_bytes()))
    response = admin.post("/admin/products/new", data, content_type="multipart/form-data")
    assert response.status_code == 303
    product = db.session.scalar(select(Product).where(Product.code == "NF-500"))
    assert response.headers["Location"] == f"/admin/products/{product.id}"
    assert (product.base_price_fen, product.pinyin, product.gtin) == (4850, "nfsqyytrs", gtin13(1))
    assert (product.pack_size, product.min_order_qty, product.order_multiple, product.tax_rate) == (24, 2, 2, 13)
    assert product.launch_date.isoformat() == "2024-03-01" and product.image_version == 1
    assert db.session.get(ProductImage, product.id) is not None

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "product",
                                                         AuditEvent.entity_id == product.id)
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["product.create", "product.image.update"]
    assert events[0].before is None and events[0].after["base_price_fen"] == 4850
    assert events[0].actor_id == world.users["admin"].id

    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "商品 NF-500 已创建" in page and "product.create" in page


def test_edit_product_records_before_and_after(admin, category):
    product = factories.product(category, code="OLD-1", name_zh="冰红茶", base_price_fen=3000)
    db.session.commit()
    form = admin.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert 'value="30.00"' in form and 'value="OLD-1"' in form

    data = product_form(category, code="OLD-1", name_zh="冰红茶 柠檬味", base_price="31.5", gtin="")
    response = admin.post(f"/admin/products/{product.id}", data)
    assert response.status_code == 303
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert (product.base_price_fen, product.name_zh, product.pinyin, product.gtin) == (3150, "冰红茶 柠檬味", "bhcnmw", None)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "product.update")).one()
    assert event.before["base_price_fen"] == 3000 and event.after["base_price_fen"] == 3150
    assert event.before["name_zh"] == "冰红茶" and event.after["code"] == "OLD-1"
    assert "product.update" in admin.get(f"/admin/products/{product.id}").get_data(as_text=True)


def test_unknown_product_is_404(admin, world):
    assert admin.get("/admin/products/999999").status_code == 404
    assert admin.post("/admin/products/999999", {}).status_code == 404


@pytest.mark.parametrize("overrides, field, message", [
    ({"code": "TAKEN"}, "code", "商品编码已被其他商品使用"),
    ({"gtin": "6901234567891"}, "gtin", "校验位不正确"),
    ({"gtin": "12345"}, "gtin", "8、12、13 或 14 位数字"),
    ({"gtin": gtin13(77)}, "gtin", "已被商品 TAKEN 使用"),
    ({"tax_rate": "10"}, "tax_rate", "13% 或 9%"),
    ({"base_price": "abc"}, "base_price", "请输入数字金额"),
    ({"base_price": "-1"}, "base_price", "不能为负数"),
    ({"base_price": "1.234"}, "base_price", "最多两位小数"),
    ({"base_price": ""}, "base_price", "请输入价格"),
    ({"pack_size": "0"}, "pack_size", "大于 0"),
    ({"min_order_qty": "5", "order_multiple": "2"}, "min_order_qty", "订购倍数（2）的整数倍"),
    ({"name_zh": ""}, "name_zh", "必填"),
    ({"category_id": ""}, "category_id", "请选择分类"),
    ({"status": "sold"}, "status", "状态无效"),
    ({"image": "text"}, "image", "不是有效的图片"),
    ({"image": "big"}, "image", "不能超过 2 MB"),
    ({"image": "gif"}, "image", "JPEG、PNG 或 WebP"),
])
def test_invalid_product_input_shows_message_next_to_field_and_saves_nothing(
        admin, category, overrides, field, message):
    factories.product(category, code="TAKEN", gtin=gtin13(77))
    db.session.commit()
    before = count(Product), count(AuditEvent), count(ProductImage)
    overrides = dict(overrides)
    image = overrides.pop("image", None)
    data = product_form(category, **overrides)
    if image == "text":
        data["image"] = upload(b"this is plain text, not a picture", "photo.jpg")
    elif image == "big":
        data["image"] = upload(b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024), "huge.jpg")
    elif image == "gif":
        data["image"] = upload(image_bytes("GIF"), "anim.gif")
    response = admin.post("/admin/products/new", data, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in (field_error(html, field) or ""), field_error(html, field)
    assert 'aria-invalid="true"' in html
    assert (count(Product), count(AuditEvent), count(ProductImage)) == before


def test_invalid_edit_leaves_product_unchanged(admin, category):
    product = factories.product(category, code="KEEP", base_price_fen=1000)
    factories.product(category, code="OTHER")
    db.session.commit()
    response = admin.post(f"/admin/products/{product.id}",
                          product_form(category, code="OTHER", base_price="9.99", gtin=""))
    assert response.status_code == 400
    assert "商品编码已被其他商品使用" in field_error(response.get_data(as_text=True), "code")
    db.session.expire_all()
    assert (db.session.get(Product, product.id).code, db.session.get(Product, product.id).base_price_fen) == ("KEEP", 1000)
    assert count(AuditEvent) == 0


def test_several_problems_are_reported_together(admin, category):
    factories.product(category, code="TAKEN")
    db.session.commit()
    response = admin.post("/admin/products/new", product_form(
        category, code="TAKEN", gtin="6901234567891", min_order_qty="3", order_multiple="2"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "code") and field_error(html, "gtin") and field_error(html, "min_order_qty")


# --- images and the media blueprint -------------------------------------------------------

def test_image_upload_makes_thumbnail_served_with_long_cache(admin, login_as, category):
    product = factories.product(category)
    db.session.commit()
    response = admin.post(f"/admin/products/{product.id}",
                          product_form(category, code=product.code, gtin="",
                                       image=upload(image_bytes("PNG", (1600, 400)), "wide.png")),
                          content_type="multipart/form-data")
    assert response.status_code == 303
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.image_version == 1

    retailer = login_as("retailer")  # any signed-in role may load product pictures
    thumb = retailer.get(f"/media/products/{product.id}/1/thumb.webp")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
    assert "max-age=31536000" in thumb.headers["Cache-Control"] and "immutable" in thumb.headers["Cache-Control"]
    picture = Image.open(io.BytesIO(thumb.data))
    assert (picture.format, picture.size) == ("WEBP", (112, 112))

    full = retailer.get(f"/media/products/{product.id}/1/image")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(full.data)).size == (800, 200)

    stale = retailer.get(f"/media/products/{product.id}/0/thumb.webp")
    assert stale.status_code == 302 and stale.headers["Location"].endswith(f"/media/products/{product.id}/1/thumb.webp")


def test_replacing_and_deleting_image_bumps_version_and_audits(admin, category):
    product = factories.product(category)
    db.session.commit()
    for _ in range(2):
        admin.post(f"/admin/products/{product.id}", product_form(category, code=product.code, gtin="",
                                                                 image=upload(image_bytes())),
                   content_type="multipart/form-data")
    db.session.expire_all()
    assert db.session.get(Product, product.id).image_version == 2
    response = admin.post(f"/admin/products/{product.id}/image/delete", {"confirmed": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ProductImage, product.id) is None
    assert db.session.get(Product, product.id).image_version == 3
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == product.id)).all()
    assert actions.count("product.image.update") == 2 and "product.image.delete" in actions
    assert admin.get(f"/media/products/{product.id}/3/thumb.webp").status_code == 404


def test_media_needs_login_and_404_without_image(client, admin, category):
    product = factories.product(category)
    db.session.commit()
    assert admin.get(f"/media/products/{product.id}/0/thumb.webp").status_code == 404
    anonymous = client.get(f"/media/products/{product.id}/0/thumb.webp")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]



def test_media_serves_pictures_only_of_products_the_viewer_may_see(login_as, world, category):
    """Issue 8: /media/ served pictures of drafts and of products hidden from the viewer's channel."""
    from app.services.catalog.admin import set_product_image

    admin_id = world.users["admin"].id
    draft = factories.product(category, status="draft")
    chengdu = factories.product(category)  # only for shops in 成都 (retailer_b, on rep_b's route)
    db.session.add(ProductVisibility(product_id=chengdu.id, audience="retailer", region_id=world.regions["cd"].id))
    for_dealers = factories.product(category)
    db.session.add(ProductVisibility(product_id=for_dealers.id, audience="dealer"))
    open_to_all = factories.product(category)
    for product in (draft, chengdu, for_dealers, open_to_all):
        set_product_image(admin_id, product, image_bytes())
    db.session.commit()
    expected = {  # who → products whose picture they get
        "admin": {draft, chengdu, for_dealers, open_to_all},
        "admin_b": {draft, chengdu, for_dealers, open_to_all},
        "retailer": {open_to_all}, "retailer_b": {chengdu, open_to_all},
        "rep": {open_to_all}, "rep_b": {chengdu, open_to_all},
        "dealer": {for_dealers, open_to_all}, "dealer_b": {for_dealers, open_to_all},
    }
    for user, visible in expected.items():
        client = login_as(user)
        for product in (draft, chengdu, for_dealers, open_to_all):
            for url in (f"/media/products/{product.id}/1/thumb.webp", f"/media/products/{product.id}/1/image",
                        f"/media/products/{product.id}/0/thumb.webp"):
                response = client.get(url)
                wanted = (200 if url.split("/")[4] == "1" else 302) if product in visible else 404
                assert response.status_code == wanted, (user, product.code, url, response.status_code)
                if wanted == 404:
                    assert response.mimetype == "text/html" and not response.headers.get("Location")

# --- product list ---------------------------------------------------------------------------

def test_product_search_by_code_name_pinyin_gtin_and_filters(admin, category):
    other = factories.category(code="TEA", name_zh="茶饮料")
    factories.product(category, code="W-1", name_zh="农夫山泉", gtin=gtin13(5))
    factories.product(other, code="T-1", name_zh="冰红茶", pinyin="bhc", status="draft")
    db.session.commit()

    def codes(url):
        html = admin.get(url).get_data(as_text=True)
        return {code for code in ("W-1", "T-1") if f">{code}</a>" in html}

    assert codes("/admin/products") == {"W-1", "T-1"}
    assert codes("/admin/products?q=w-1") == {"W-1"}
    assert codes("/admin/products?q=红茶") == {"T-1"}
    assert codes("/admin/products?q=bh") == {"T-1"}
    assert codes(f"/admin/products?q={gtin13(5)[:9]}") == {"W-1"}
    assert codes(f"/admin/products?category={other.id}") == {"T-1"}
    assert codes("/admin/products?status=active") == {"W-1"}
    assert codes("/admin/products?q=%25") == set()  # % is searched literally


def test_product_list_fragment_and_pages(admin, category):
    for n in range(55):
        factories.product(category, code=f"PX{n:03d}")
    db.session.commit()
    full = admin.get("/admin/products")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    fragment = admin.hx_get("/admin/products?page=2")
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert ">PX054</a>" in html and ">PX000</a>" not in html and "第 2 / 2 页" in html
    assert "HX-Request" in fragment.headers["Vary"]


# --- categories -----------------------------------------------------------------------------

def test_category_create_edit_delete(admin, world):
    response = admin.post("/admin/categories/new", {"code": "BEER", "name_zh": "啤酒", "name_en": "Beer",
                                                    "sort_order": "5"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/categories"
    beer = db.session.scalar(select(Category).where(Category.code == "BEER"))
    assert (beer.name_zh, beer.sort_order) == ("啤酒", 5)

    duplicate = admin.post("/admin/categories/new", {"code": "BEER", "name_zh": "又一个", "sort_order": "0"})
    assert duplicate.status_code == 400
    assert "分类编码已存在" in field_error(duplicate.get_data(as_text=True), "code")
    assert count(Category) == 1

    assert admin.post(f"/admin/categories/{beer.id}/edit", {"code": "BEER", "name_zh": "精酿啤酒",
                                                            "name_en": "Craft beer", "sort_order": "1"}).status_code == 303
    factories.product(db.session.get(Category, beer.id))
    db.session.commit()
    refused = admin.post(f"/admin/categories/{beer.id}/delete", {"confirmed": "1"})
    assert refused.status_code == 303 and db.session.get(Category, beer.id) is not None
    assert "还有商品" in admin.get("/admin/categories").get_data(as_text=True)

    empty_id = factories.category(code="EMPTY").id
    db.session.commit()
    assert admin.post(f"/admin/categories/{empty_id}/delete", {"confirmed": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Category, empty_id) is None
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "category").order_by(AuditEvent.id)).all()
    assert actions == ["category.create", "category.update", "category.delete"]
    update = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "category.update")).one()
    assert update.before == {"code": "BEER", "name_en": "Beer", "name_zh": "啤酒", "sort_order": 5}


# --- visibility rules -----------------------------------------------------------------------

def test_visibility_rule_add_and_delete(admin, world, category):
    product = factories.product(category)
    db.session.commit()
    response = admin.post(f"/admin/products/{product.id}/visibility",
                          {"audience": "retailer", "tier": "", "channel": "catering", "region_code": world.regions["zj"].code})
    assert response.status_code == 303 and response.headers["Location"].endswith("#visibility")
    rule = db.session.scalars(select(ProductVisibility)).one()
    assert (rule.audience, rule.tier, rule.channel, rule.region_id) == ("retailer", None, "catering", world.regions["zj"].id)
    page = admin.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert "餐饮" in page and "浙江省" in page

    duplicate = admin.post(f"/admin/products/{product.id}/visibility",
                           {"audience": "retailer", "channel": "catering", "region_code": world.regions["zj"].code})
    assert duplicate.status_code == 400 and "相同的规则已存在" in field_error(duplicate.get_data(as_text=True), "audience")

    assert admin.post(f"/admin/products/{product.id}/visibility/{rule.id}/delete", {"confirmed": "1"}).status_code == 303
    assert count(ProductVisibility) == 0
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == product.id)).all()
    assert actions == ["product.visibility.create", "product.visibility.delete"]


@pytest.mark.parametrize("data, field, message", [
    ({"region_code": "NOPE"}, "region_code", "没有编码为 NOPE 的地区"),
    ({"audience": "dealer", "channel": "kiosk"}, "channel", "只适用于零售商"),
    ({}, "audience", "至少设定一个条件"),
    ({"tier": "Z"}, "tier", "等级无效"),
])
def test_invalid_visibility_rule(admin, category, data, field, message):
    product = factories.product(category)
    db.session.commit()
    response = admin.post(f"/admin/products/{product.id}/visibility", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in field_error(html, field)
    assert f'value="{product.code}"' in html  # the product form beside it still shows the saved values
    assert count(ProductVisibility) == 0


def test_visibility_rule_of_another_product_is_404(admin, category):
    product, other = factories.product(category), factories.product(category)
    rule = visibility(other, channel="kiosk")
    db.session.commit()
    assert admin.post(f"/admin/products/{product.id}/visibility/{rule.id}/delete", {"confirmed": "1"}).status_code == 404
    assert count(ProductVisibility) == 1


# --- access ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin/products", "/admin/products/new", "/admin/categories", "/admin/categories/new"])
def test_catalog_pages_need_catalog_permission(login_as, url):
    assert login_as("admin_b").get(url).status_code == 403
    assert login_as("retailer").get(url).status_code == 403


def test_catalog_posts_need_catalog_permission(login_as, category):
    response = login_as("admin_b").post("/admin/products/new", product_form(category))
    assert response.status_code == 403 and count(Product) == 0


def test_anonymous_goes_to_login(client):
    response = client.get("/admin/products")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


# --- audit log ------------------------------------------------------------------------------

def test_audit_log_filters_newest_first_and_any_admin_may_read(admin, login_as, category):
    first = factories.product(category, code="A-1")
    second = factories.product(category, code="A-2")
    db.session.commit()
    for product, price in ((first, "1.00"), (second, "2.00"), (first, "3.00")):
        admin.post(f"/admin/products/{product.id}", product_form(category, code=product.code, gtin="", base_price=price))
    reader = login_as("admin_b")  # no permissions at all, may still read the trail
    html = reader.get(f"/admin/audit?entity=product&entity_id={first.id}").get_data(as_text=True)
    assert html.count("product.update") == 2 and "共 2 条记录" in html
    assert html.index("<ins>¥3.00</ins>") < html.index("<ins>¥1.00</ins>")  # newest first, in yuan
    assert "基础价" in html and "修改商品" in html and "base_price_fen" not in html
    assert "共 3 条记录" in reader.hx_get("/admin/audit?entity=product").get_data(as_text=True)
    assert "共 0 条记录" in reader.get("/admin/audit?entity=category").get_data(as_text=True)
    bad = reader.get("/admin/audit?entity_id=abc")
    assert bad.status_code == 400 and field_error(bad.get_data(as_text=True), "entity_id")


def test_audit_log_reads_labels_yuan_and_names_with_one_query_per_kind(admin, world, category):
    from app.services.core import audit
    from tests.builders_ordering import count_queries

    product = factories.product(category, code="TEA-7", name_zh="冰红茶")
    retailer, dealer = world.orgs["retailer"], world.orgs["dealer"]
    for n in range(5):
        audit.record(world.users["admin"].id, "order.submit", "order", 900 + n, None,
                     {"number": f"SO{n}", "status": "submitted", "buyer_id": retailer.id, "seller_id": dealer.id,
                      "total_fen": 9600, "channel": "web"})
        audit.record(world.users["admin"].id, "price_list.item.update", "price_list", 1,
                     {"product_id": product.id, "price_fen": 9600, "active": True},
                     {"product_id": product.id, "price_fen": 9800, "active": False})
    audit.record(world.users["admin"].id, "price_list.item.create", "price_list", 1, None,
                 {"product_id": product.id, "price_fen": 9600})
    audit.record(world.users["admin"].id, "stock.shelf_life_rule.create", "shelf_life_rule", 1, None,
                 {"channel": "supermarket", "audience": "retailer"})
    db.session.commit()
    with count_queries() as counted:
        html = admin.get("/admin/audit").get_data(as_text=True)
    assert f"{retailer.name} (#{retailer.id})" in html and f"{dealer.name} (#{dealer.id})" in html
    assert "买方" in html and "卖方" in html and "buyer_id" not in html and f"<ins>{retailer.id}</ins>" not in html
    assert "<del>¥96.00</del> → <ins>¥98.00</ins>" in html and "TEA-7 冰红茶" in html and "<ins>已提交</ins>" in html
    assert "<del>是</del> → <ins>否</ins>" in html and "<ins>超市</ins>" in html and "<ins>零售商</ins>" in html
    assert "修改价格" in html and "提交订单" in html and "订单 #900" in html
    lookups = [s for s in counted.statements if "FROM organisations" in s or "FROM products" in s]
    assert len(lookups) <= 3  # the org names once, the product names once (and the signed-in user's org)


def test_audit_log_paginates(admin, world):
    from app.services.core import audit
    for n in range(60):
        audit.record(world.users["admin"].id, "product.update", "product", 1, {"n": n}, {"n": n + 1})
    db.session.commit()
    page_one = admin.get("/admin/audit").get_data(as_text=True)
    page_two = admin.hx_get("/admin/audit?page=2").get_data(as_text=True)
    assert "<ins>60</ins>" in page_one and "<ins>60</ins>" not in page_two
    assert "<ins>1</ins>" in page_two and "<html" not in page_two


# --- image processing (service level) -------------------------------------------------------

def test_transparent_png_and_webp_uploads_are_accepted(app):
    from app.services.catalog.images import prepare_image
    with app.test_request_context():
        png = prepare_image(image_bytes("PNG", (300, 300), (0, 128, 0, 0), mode="RGBA"))
        webp = prepare_image(image_bytes("WEBP", (100, 50)))
    assert png.content_type == "image/png" and Image.open(io.BytesIO(png.thumbnail)).mode == "RGBA"
    assert webp.content_type == "image/jpeg" and Image.open(io.BytesIO(webp.data)).size == (100, 50)


def test_decompression_bomb_is_refused_before_decoding(app):
    from app.services.core.errors import DomainError
    from app.services.catalog.images import prepare_image
    bomb = image_bytes("PNG", (8000, 6000), 0, mode="1")  # 48 megapixels in a few kilobytes
    assert len(bomb) < 1024 * 1024
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        prepare_image(bomb)
    assert refused.value.field == "image" and "尺寸过大" in refused.value.message
