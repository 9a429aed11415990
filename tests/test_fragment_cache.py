"""Parts of pages rendered once per process (app/web/common/fragments.py: the layout's links, the
catalog's search form, the pager): what they share is the same for everyone, and what belongs to
one user or one request (the cart and unread badges, the names in the menu, the CSRF token, the
typed search, the page shown as current, the language) is never taken from another's page."""
import re

from app.extensions import db
from tests import builders_ordering as b
from tests.builders_rep import notification


CSRF_VALUE = re.compile(r'(?<=name="csrf_token" value=")[^"]+|(?<="X-CSRFToken": ")[^"]+')


def text(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


def badge(page: str, element_id: str) -> str:
    match = re.search(rf'<span id="{element_id}"[^>]*>(.*?)</span>', page, flags=re.S)
    return match.group(0) if match else ""


def csrf_tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', page)) | set(
        re.findall(r'"X-CSRFToken": "([^"]+)"', page))


def test_two_retailers_see_their_own_badges_names_and_tokens(login_as, world):
    first, second = world.users["retailer"], world.users["retailer_b"]
    products = b.products(3, base_price_fen=1000)
    for product in products:
        b.cart_line(first, world.orgs["retailer"], product, 1)
    notification(second, "给第二家店")
    db.session.commit()
    one, two = login_as("retailer"), login_as("retailer_b")
    page_one, page_two = text(one.get("/retailer/catalog")), text(two.get("/retailer/catalog"))
    page_one_again = text(one.get("/retailer/catalog"))

    assert ">3<" in badge(page_one, "cart-badge") and "hidden" in badge(page_two, "cart-badge")
    assert 'class="badge"' not in page_one.split('id="notification-badge"')[1][:80]
    assert 'class="badge"' in page_two.split('id="notification-badge"')[1][:80]
    assert world.orgs["retailer"].name in page_one and world.orgs["retailer"].name not in page_two
    assert world.orgs["retailer_b"].name in page_two and world.orgs["retailer_b"].name not in page_one
    assert csrf_tokens(page_one) and not csrf_tokens(page_one) & csrf_tokens(page_two)
    # The session's token, signed again each second (the signature's time differs across a second)
    assert {t.split(".")[0] for t in csrf_tokens(page_one_again)} == {t.split(".")[0] for t in csrf_tokens(page_one)}


def test_the_current_page_and_the_typed_search_follow_the_request(retailer):
    b.products(2)
    db.session.commit()
    catalog = text(retailer.get("/retailer/catalog?q=%E5%8F%AF%E4%B9%90"))
    cart = text(retailer.get("/retailer/cart"))
    plain = text(retailer.get("/retailer/catalog"))

    assert re.search(r'href="/retailer/catalog" aria-current="page"', catalog)
    assert re.search(r'href="/retailer/cart" aria-current="page"', cart)
    assert not re.search(r'href="/retailer/catalog" aria-current="page"', cart)
    assert 'value="可乐"' in catalog and 'value="可乐"' not in plain


def test_a_language_switch_changes_every_cached_part(retailer):
    b.products(60)  # two pages: the pager shows
    db.session.commit()
    chinese = text(retailer.get("/retailer/catalog"))
    assert "我的订单" in chinese and "下一页" in chinese and "搜索" in chinese
    assert retailer.post("/locale", {"locale": "en", "next": "/retailer/catalog"}).status_code == 303
    english = text(retailer.get("/retailer/catalog"))

    assert "我的订单" not in english and "下一页" not in english and "联营订货" not in english
    assert "Next" in english and 'lang="en"' in english
    assert retailer.post("/locale", {"locale": "zh", "next": "/retailer/catalog"}).status_code == 303
    assert text(retailer.get("/retailer/catalog")).count("我的订单") == chinese.count("我的订单")


def test_the_pager_links_keep_each_request_s_own_search(retailer, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for n in range(5):
        b.products(1, name_zh=f"茶饮{n}", code=f"TEA{n}")
        b.products(1, name_zh=f"咖啡{n}", code=f"COF{n}")
    db.session.commit()
    tea, coffee = text(retailer.get("/retailer/catalog?q=茶饮")), text(retailer.get("/retailer/catalog?q=咖啡"))
    assert 'href="/retailer/catalog?q=%E8%8C%B6%E9%A5%AE&amp;page=2"' in tea
    assert 'href="/retailer/catalog?q=%E5%92%96%E5%95%A1&amp;page=2"' in coffee and "%E8%8C%B6" not in coffee


def test_a_catalog_page_without_a_query_string_answers_as_the_blank_search_form(app):
    """BlankCatalogSearch (a catalog page without a query string, no WTForms form built) gives the
    same criteria, URL parameters, search box key and search box as the blank CatalogSearchForm."""
    from types import SimpleNamespace

    from flask import render_template
    from werkzeug.datastructures import MultiDict

    from app.web.shared.ordering.forms import BlankCatalogSearch, CatalogSearchForm

    categories = [SimpleNamespace(id=3, name_zh="饮料", name_en="Drinks"),
                  SimpleNamespace(id=5, name_zh="零食", name_en="Snacks")]
    for locale in ("zh", "en"):
        with app.test_request_context("/retailer/catalog"):
            blank, form = BlankCatalogSearch(), CatalogSearchForm(formdata=MultiDict())
            assert blank.criteria() == form.criteria()
            blank.set_categories(categories, locale)
            form.set_categories(categories, locale)
            assert blank.render_key() == form.render_key()
            assert blank.params() == form.params() == {}
            assert blank.usual.data is form.usual.data is False
            boxes = []
            for search in (blank, form):
                app.extensions.pop("html_fragments", None)  # rendered afresh from each
                boxes.append(render_template("shared/ordering/_search.html", form=search, search_url="/retailer/catalog",
                                             list_target="#catalog-list", list_swap=None))
            assert boxes[0] == boxes[1]
            assert ("Drinks" if locale == "en" else "饮料") in boxes[0]


def test_the_catalog_page_from_its_cached_frame_is_the_page_jinja_renders(retailer, world, app, monkeypatch):
    """The catalog's frame (base.html and the retailer layout) comes from the process's cache with
    this request's values in its slots: the same text as the whole template rendered afresh, for
    a cart, an unread notice, the English page and a search."""
    products = b.products(3)
    b.cart_line(world.users["retailer"], world.orgs["retailer"], products[0], 2)
    notification(world.users["retailer"], "新消息")
    db.session.commit()
    assert retailer.post("/locale", {"locale": "en", "next": "/retailer/catalog"}).status_code == 303

    def pages():
        return [CSRF_VALUE.sub("token", text(retailer.get(url))) for url in ("/retailer/catalog", "/retailer/catalog?q=x")]

    framed = pages()
    monkeypatch.setattr(app.jinja_env, "auto_reload", True)  # templates rendered whole, nothing cached
    assert pages() == framed
    assert 'lang="en"' in framed[0] and ">1<" in badge(framed[0], "cart-badge") and 'value="x"' in framed[1]
    assert world.orgs["retailer"].name in framed[0]


def test_a_message_flashed_for_one_page_shows_on_that_page_only(retailer, login_as):
    """Flashes sit in a slot of the cached frame: the catalog page a no-JS tap lands on shows its
    user's message once; another retailer's page does not."""
    other = login_as("retailer_b")
    text(other.get("/retailer/catalog"))  # the frame is cached before the message
    tap = retailer.get("/retailer/cart/added?product=999999&set=1&next=/retailer/catalog")  # a product gone
    assert tap.status_code == 303 and tap.headers["Location"].endswith("/retailer/catalog")
    first, again, others = (text(retailer.get("/retailer/catalog")), text(retailer.get("/retailer/catalog")),
                            text(other.get("/retailer/catalog")))
    assert '<p class="flash success">已从购物车移除。</p>' in first
    assert "已从购物车移除。" not in again and "已从购物车移除。" not in others
