"""The unsearched catalog page lists its products from the process's copy of the catalog
(app/services/catalog/shelf.py), kept until the database's catalog token moves: whatever changes
the list (a product added, discontinued or moved, categories reordered), whoever writes it, shows
on the very next page, and a page past the end still lands on the last one."""
import re

from sqlalchemy import text as sql, update

from app.extensions import db
from app.models import Category, Product
from tests import builders_ordering as b
from tests import factories


def text(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shown(page) -> list[int]:
    return [int(pid) for pid in re.findall(r'<li class="prod" id="p(\d+)">', page)]


def test_added_discontinued_and_moved_products_show_on_the_next_page(retailer):
    first, second = b.products(2)
    db.session.commit()
    assert shown(text(retailer.get("/retailer/catalog"))) == [first.id, second.id]
    third, = b.products(1, cat=db.session.get(Category, first.category_id))
    db.session.commit()
    assert shown(text(retailer.get("/retailer/catalog"))) == [first.id, second.id, third.id]
    db.session.execute(update(Product).where(Product.id == second.id).values(status="discontinued"))
    db.session.commit()
    assert shown(text(retailer.get("/retailer/catalog"))) == [first.id, third.id]
    db.session.execute(update(Product).where(Product.id == first.id).values(code="ZZZ-LAST"))
    db.session.commit()
    assert shown(text(retailer.get("/retailer/catalog"))) == [third.id, first.id]


def test_reordered_categories_reorder_the_catalog_at_once(retailer):
    drinks, snacks = factories.category(), factories.category()
    drink, = b.products(1, cat=drinks)
    snack, = b.products(1, cat=snacks)
    db.session.execute(update(Category).where(Category.id == drinks.id).values(sort_order=1))
    db.session.execute(update(Category).where(Category.id == snacks.id).values(sort_order=2))
    db.session.commit()
    assert shown(text(retailer.get("/retailer/catalog"))) == [drink.id, snack.id]
    db.session.execute(update(Category).where(Category.id == snacks.id).values(sort_order=0))
    db.session.commit()
    assert shown(text(retailer.get("/retailer/catalog"))) == [snack.id, drink.id]


def test_a_change_written_outside_the_app_shows_on_the_next_page(app, retailer):
    """The token is changed by the database's triggers, not by the app: a product renamed or
    added in another connection (an import, a psql session) is seen at once."""
    product, = b.products(1, name_zh="旧名字")
    db.session.commit()
    assert "旧名字" in text(retailer.get("/retailer/catalog"))
    with db.engine.begin() as other:
        other.execute(sql("UPDATE products SET name_zh = '新名字' WHERE id = :id"), {"id": product.id})
    page = text(retailer.get("/retailer/catalog"))
    assert "新名字" in page and "旧名字" not in page


def test_pages_of_the_catalog_and_a_page_past_the_end(retailer):
    products = b.products(53)
    db.session.commit()
    ids = [p.id for p in sorted(products, key=lambda p: p.code)]
    assert shown(text(retailer.get("/retailer/catalog"))) == ids[:50]
    assert shown(text(retailer.get("/retailer/catalog?page=2"))) == ids[50:]
    assert shown(text(retailer.get("/retailer/catalog?page=9"))) == ids[50:]
    assert "共 53 种商品" in text(retailer.get("/retailer/catalog?page=2"))
