"""Issue 8, bad input gets a 4xx, never a 500: the project's base form (app/web/common/forms.py)
refuses control characters and out-of-range whole numbers next to the field, query arguments
(app/web/common/safe_args.py) never hand a view such a value, a corrupt spreadsheet is "cannot be
read as XLSX", and a failure during a save still shows the styled error page."""
from __future__ import annotations

import flask_wtf
import pytest
from flask import request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange

from app import create_app
from app.extensions import db
from app.models import ImportBatch, LoginFailure, Product, User
from app.services.dataio.spreadsheets import FileRejected, read_table
from app.web.common.fields import YuanField
from app.web.common.forms import Form
from tests import factories
from tests.builders_imports import csv_bytes, upload
from tests.builders_users import field_error
from tests.conftest import Client

CONTROL = "不能包含控制字符。"


class Sample(Form):
    class Meta:
        csrf = False

    name = StringField()
    note = TextAreaField()
    qty = IntegerField()
    kind = SelectField(choices=[SelectChoice("1", "one"), SelectChoice("2", "two")], coerce=int)
    price = YuanField()


def sample(app, **values):
    with app.test_request_context(method="POST", data=values):
        form = Sample()
        return form.validate(), form


# --- the base form ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["a\x00b", "\x1b[2J", "x\x7fy", "\x08", "\x85", "tab\x0bvertical"])
def test_control_characters_are_refused_next_to_the_field(app, bad):
    ok, form = sample(app, name=bad, note="fine", qty="1", kind="1", price="1.00")
    assert not ok and form.name.errors == [CONTROL] and not form.note.errors


def test_a_textarea_may_hold_tabs_and_line_breaks(app):
    ok, form = sample(app, name="ok", note="line one\r\nline\ttwo\n", qty="1", kind="1", price="1.00")
    assert ok, form.errors


@pytest.mark.parametrize("qty, data", [("2147483647", 2147483647), ("-2147483648", -2147483648),
                                       ("2147483648", 2147483647), ("100000000000000000000", 2147483647),
                                       ("-99999999999999999999", -2147483648)])
def test_whole_numbers_beyond_the_database_range_become_its_nearest_bound(app, qty, data):
    valid, form = sample(app, name="x", qty=qty, kind="1", price="1.00")
    assert valid and form.qty.data == data


def test_a_fields_own_maximum_answers_a_huge_number(app):
    class Bounded(Form):
        class Meta:
            csrf = False

        qty = IntegerField(validators=[NumberRange(min=1, max=9999, message="1 到 9999")])

    with app.test_request_context(method="POST", data={"qty": "9" * 30}):
        form = Bounded()
        assert not form.validate() and form.qty.errors == ["1 到 9999"]


def test_money_is_bounded_by_its_own_parser_not_the_integer_range(app):
    valid, form = sample(app, name="x", qty="1", kind="1", price="30000000.00")  # 3e9 fen: a BIGINT column
    assert valid and form.price.data == 3_000_000_000


def test_the_other_fields_still_get_their_own_checks(app):
    valid, form = sample(app, name="a\x00", qty="1", kind="100000000000000000000", price="1.00")
    assert not valid and form.name.errors == [CONTROL] and form.kind.errors


def test_every_form_of_the_project_uses_the_base_form(app):
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {c for c in subclasses(flask_wtf.FlaskForm) if c.__module__.startswith("app.")}
    assert len(ours) > 30
    assert sorted(f"{c.__module__}.{c.__name__}" for c in ours if not issubclass(c, Form)) == []


# --- pages ------------------------------------------------------------------------------------

def test_a_nul_in_the_login_username_is_a_400_with_the_message_next_to_it(client, world):
    client.get("/login")
    response = client.post("/login", {"username": "admin1\x00", "password": "whatever"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "username") == CONTROL
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_a_huge_quantity_is_answered_by_the_quantity_rule(login_as, world):
    product = factories.product(code="HUGE-QTY")
    db.session.commit()
    c = login_as("retailer")
    c.get("/retailer/catalog")
    response = c.post("/retailer/cart/add", {"product_id": "9" * 25, "qty": "9" * 25, "next": "/retailer/catalog"})
    assert response.status_code == 400 and "不存在或暂不可订购" in response.get_data(as_text=True)
    response = c.post("/retailer/cart/add", {"product_id": product.id, "qty": "9" * 25, "next": "/retailer/catalog"})
    assert response.status_code == 400


def test_an_out_of_range_category_in_a_filter_is_an_unknown_category_not_a_failure(login_as, world):
    factories.product(code="KEEP-ME")
    db.session.commit()
    c = login_as("admin")
    # Like any id that names no category (the access matrix's rule for ids in query strings).
    response = c.get("/admin/products?category=100000000000000000000&page=100000000000000000000")
    assert response.status_code == 404 and "KEEP-ME" not in response.get_data(as_text=True)
    assert "KEEP-ME" in c.get("/admin/products?page=100000000000000000000").get_data(as_text=True)


def test_a_nul_in_a_query_filter_is_ignored(login_as, world):
    response = login_as("admin").get("/admin/users?q=a%00b&role=%00&page=%00")
    assert response.status_code == 200


def test_a_nul_in_an_admin_form_saves_nothing(login_as, world):
    c = login_as("admin")
    c.get("/admin/users/new")
    response = c.post("/admin/users/new", {"username": "new\x00user", "password": "long-enough-1", "role": "rep",
                                           "org_code": world.brand.code, "display_name": "x"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "username") == CONTROL
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username.like("new%"))) == 0


def test_a_corrupt_xlsx_upload_says_it_cannot_be_read(login_as, world):
    c = login_as("admin")
    c.get("/admin/imports/products")
    response = upload(c, "products", b"PK\x03\x04\x14\x00\x00\x00broken" + b"\x00" * 40, "商品.xlsx")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "file").startswith("无法读取该 XLSX 文件")
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_a_spreadsheet_cell_with_a_nul_is_refused():
    data = csv_bytes([["code", "name"], ["P1", "bad\x1bname"]])
    with pytest.raises(FileRejected, match="第 2 行含有控制字符"):
        read_table("x.csv", data, max_rows=10)


# --- query arguments --------------------------------------------------------------------------

def test_query_arguments_never_give_a_view_an_unusable_value(app):
    query = "page=100000000000000000000&n=-5&s=a%00b&ok=fine"
    with app.test_request_context(f"/?{query}"):
        assert request.args.get("page", 1, type=int) == 1
        assert request.args.get("n", 1, type=int) == -5
        assert request.args.get("s", "") == "" and request.args.get("ok") == "fine"
        assert request.args.getlist("s") == ["a\x00b"]  # forms read the raw value and say what is wrong
        with pytest.raises(Exception) as raised:
            request.args["s"]
        assert getattr(raised.value, "code", None) == 400


# --- a failure during a save ------------------------------------------------------------------

@pytest.fixture
def failing_app(app):
    """The app with one extra page whose save breaks a constraint, answering as in production
    (exceptions become the 500 page instead of reaching the test)."""
    broken = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        REDIS_URL=app.config["REDIS_URL"], ARGON2_PARAMS=app.config["ARGON2_PARAMS"],
                        PROPAGATE_EXCEPTIONS=False)

    @broken.post("/test-only/broken-save")
    def broken_save():
        existing = db.session.scalars(select(Product)).first()
        db.session.add(Product(code=existing.code, name_zh="重复", name_en="dup", category_id=existing.category_id,
                               spec="1", unit="箱", pack_size=1))
        db.session.flush()  # IntegrityError: the transaction is dead (PostgreSQL: aborted)
        return "unreachable"

    return broken


def test_a_failure_during_a_save_shows_the_styled_error_page(failing_app, world):
    factories.product(code="DUP")
    db.session.commit()
    c = Client(failing_app)
    assert c.login("dealer1").status_code == 303
    response = c.post("/test-only/broken-save")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "服务器出错，请稍后再试。" in body and "<main" in body  # the site's page, not a bare one
    assert world.orgs["dealer"].name in body  # the layout could still read the signed-in user
    assert c.get("/dealer/").status_code == 200  # and the next request is fine
    with pytest.raises(IntegrityError):  # the save really did fail the way the page claims
        with failing_app.app_context():
            db.session.add(Product(code="DUP", name_zh="x", name_en="x", category_id=db.session.scalars(
                select(Product.category_id)).first(), spec="1", unit="箱", pack_size=1))
            db.session.flush()


def test_when_even_the_error_page_fails_the_answer_is_still_a_page(app, world):
    """The database is gone entirely (the layout cannot read the signed-in user): a bare page,
    still a 500 with the message, never a traceback."""
    from sqlalchemy import create_engine

    broken = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        REDIS_URL=app.config["REDIS_URL"], ARGON2_PARAMS=app.config["ARGON2_PARAMS"],
                        PROPAGATE_EXCEPTIONS=False)

    @broken.get("/test-only/database-gone")
    def database_gone():
        db.engines[None] = create_engine("sqlite:////nonexistent-dir/none.db")  # every query fails now
        raise RuntimeError("the save failed")

    c = Client(broken)
    assert c.login("dealer1").status_code == 303
    with broken.app_context():
        saved_engine = db.engines[None]
    try:
        response = c.get("/test-only/database-gone")
    finally:
        with broken.app_context():
            db.engines[None] = saved_engine
    assert response.status_code == 500
    assert "服务器出错，请稍后再试。" in response.get_data(as_text=True)
