"""Stored messages (app/services/core/messages.py): a code plus parameters, stored as JSON and
rendered in the reader's language; text typed by people, and rows written before, shown as is."""
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import OrderEvent
from app.services.core.messages import CATALOG, Message, joined, message, render
from app.web.common.filters import msg
from tests import builders_ordering


def test_a_message_renders_in_the_readers_language(app):
    note = message("approval.held", reasons=joined([message("review.stock_short"), message("review.overdue")]))
    with app.test_request_context(), force_locale("zh"):
        assert str(note) == "待人工审核：库存不足、发票逾期"
    with app.test_request_context(), force_locale("en"):
        assert str(note) == "Awaiting manual review: Insufficient stock, Invoice overdue"


def test_numbers_keep_their_format_and_data_stays_as_typed(app):
    line = message("approval.unusual_line", code="P-1", qty=30, days=90, avg=4.5)
    typed = message("shipping.rest_cancelled", r="仓库缺货")
    with app.test_request_context(), force_locale("zh"):
        assert str(line) == "P-1 本单 30，近 90 天平均 4.5"
    with app.test_request_context(), force_locale("en"):
        assert str(typed) == "Remaining quantity cancelled: 仓库缺货"


def test_json_round_trip_and_the_column_type(app, world):
    lines = joined([message("delivery.short", product="水", qty=2)], "；")
    note = message("delivery.with_note", note="司机说少装了",
                   text=message("delivery.with_lines", how=message("delivery.by_buyer"), lines=lines))
    assert Message.from_json(note.to_json()) == note
    order = builders_ordering.order(world.orgs["retailer"], world.orgs["dealer"], [])
    db.session.add(OrderEvent(order_id=order.id, to_status="delivered", note_message=note))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(OrderEvent).where(OrderEvent.to_status == "delivered"))
    assert stored.note_message == note and stored.note == ""


def test_text_and_older_rows_are_shown_as_they_are(app):
    with app.test_request_context(), force_locale("en"):
        assert msg(None, "客户要求延期") == "客户要求延期"
        assert msg("自动审核") == "自动审核"  # a row written before messages were stored as codes
        assert msg({"code": "approval.auto", "params": {}}) == str(CATALOG["approval.auto"])
        assert render(Message("no.such.code")) == "no.such.code"


def test_unknown_codes_fail_when_written():
    with pytest.raises(KeyError):
        message("approval.no_such_thing")
    with pytest.raises(KeyError):
        joined(["a"], sep="|")
