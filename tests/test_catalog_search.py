"""Catalog search on a phone keyboard: pinyin initials and full pinyin find the Chinese name,
Chinese-name matches come first, and an English name matches only at the start of a word, so
"kl" finds 可乐 but not noodles through "Pickled"."""
import re

import pytest

from app.extensions import db
from app.models import Product
from app.services.catalog import admin as catalog_admin
from app.services.catalog.search_text import pinyin_keys
from tests import factories


def names_found(client, query):
    page = client.get("/retailer/catalog", query_string={"q": query}).get_data(as_text=True)
    return re.findall(r'<b class="prod-name">([^<]+)</b>', page)


@pytest.fixture
def product(world):
    """product(name_zh, name_en, code=...), all in one category, so the order within a rank is by code."""
    category = factories.category(name_zh="饮料")

    def _product(name_zh, name_en, **kw):
        return factories.product(category, name_zh=name_zh, name_en=name_en, **pinyin_keys(name_zh), **kw)

    return _product


@pytest.fixture
def shelf(product):
    cola = product("可乐 330ml", "Cola 330ml", code="A-9")
    coke = product("可口可乐 500ml", "Coca Cola 500ml", code="A-8")
    noodles = product("老坛酸菜牛肉面", "Pickled Cabbage Beef Noodles", code="A-1")
    water = product("农夫山泉 550ml", "Nongfu Spring 550ml", code="A-2")
    klim = product("奶粉", "Klim milk powder", code="A-0")
    db.session.commit()
    return dict(cola=cola, coke=coke, noodles=noodles, water=water, klim=klim)


def test_pinyin_keys_hold_initials_and_full_pinyin():
    assert pinyin_keys("可口可乐 500ml") == {"pinyin": "kkkl", "pinyin_full": "kekoukele"}
    assert pinyin_keys("农夫山泉") == {"pinyin": "nfsq", "pinyin_full": "nongfushanquan"}


@pytest.mark.parametrize("query", ["kele", "KeLe", "ke le", "kl"])
def test_full_pinyin_and_initials_find_cola(retailer, shelf, query):
    found = names_found(retailer, query)
    assert "可乐 330ml" in found and "可口可乐 500ml" in found
    assert "老坛酸菜牛肉面" not in found  # not through "Pickled"


def test_full_pinyin_finds_by_a_part_of_the_name(retailer, shelf):
    assert names_found(retailer, "shanquan") == ["农夫山泉 550ml"]
    assert names_found(retailer, "nfsq") == ["农夫山泉 550ml"]


def test_chinese_matches_come_before_english_word_matches(retailer, shelf):
    """"kl": the two colas through their pinyin, then milk powder through "Klim", whatever the codes say."""
    assert names_found(retailer, "kl") == ["可口可乐 500ml", "可乐 330ml", "奶粉"]


def test_chinese_name_before_pinyin_only_matches(retailer, shelf, product):
    """Ties within a rank go by code (A-8 before A-9); a product found only by its code comes after."""
    product("矿泉水", "Mineral water", code="KELE-1")
    db.session.commit()
    assert names_found(retailer, "可乐") == ["可口可乐 500ml", "可乐 330ml"]
    assert names_found(retailer, "kele") == ["可口可乐 500ml", "可乐 330ml", "矿泉水"]


def test_english_name_matches_at_the_start_of_a_word(retailer, shelf):
    assert names_found(retailer, "noodles") == ["老坛酸菜牛肉面"]
    assert names_found(retailer, "cabb") == ["老坛酸菜牛肉面"]
    assert names_found(retailer, "ickled") == []


def test_saving_a_product_keeps_its_full_pinyin(world, shelf):
    admin = world.users["admin"]
    water = shelf["water"]
    values = {name: getattr(water, name) for name in catalog_admin.PRODUCT_FIELDS}
    catalog_admin.update_product(admin.id, water, {**values, "name_zh": "康师傅冰红茶"})
    db.session.commit()
    refreshed = db.session.get(Product, water.id)
    assert (refreshed.pinyin, refreshed.pinyin_full) == ("ksfbhc", "kangshifubinghongcha")
