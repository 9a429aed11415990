"""Chinese is the source language; every string the UI can show must have an English translation."""
import pathlib
import subprocess
import sys

from babel.messages.pofile import read_po

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_message_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--no-location", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with (ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    missing = sorted(m for m in wanted
                     if not (catalog.get(m) and (catalog.get(m).string if isinstance(catalog.get(m).string, str)
                                                 else all(catalog.get(m).string))))
    assert missing == [], f"{len(missing)} messages without English (run scripts/update_translations.sh): {missing[:20]}"


def test_english_ui(login_as, db):
    c = login_as("retailer")
    c.post("/locale", {"locale": "en", "next": "/retailer/"})
    page = c.get("/retailer/").get_data(as_text=True)
    assert 'lang="en"' in page and "Log out" in page


def test_english_checkout_button_says_submit_order(login_as, world, db):
    """"提交订单" is the checkout button; the order-cycle report's count is "提交订单数"."""
    from app.extensions import db as sqla
    from tests import builders_ordering, factories
    user, shop = world.users["retailer"], world.orgs["retailer"]
    builders_ordering.cart_line(user, shop, factories.product(), 1)
    sqla.session.commit()
    c = login_as("retailer")
    c.post("/locale", {"locale": "en", "next": "/retailer/cart"})
    page = c.get("/retailer/cart").get_data(as_text=True)
    assert ">Submit order</button>" in page and "Submitted orders" not in page


def test_templates_follow_a_forced_language_inside_a_request(app):
    """The templates' `_()` and current_locale() remember the request's translations
    (app/web/common/i18n.py): a language forced for part of the request (a document in Chinese
    for an English user) is used inside it and the request's own again after it."""
    from flask import render_template_string, session
    from flask_babel import force_locale

    page = "{{ _('搜索') }} {{ current_locale() }}"
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert render_template_string(page) == "Search en"
        with force_locale("zh"):
            assert render_template_string(page) == "搜索 zh"
        assert render_template_string(page) == "Search en"
