"""One vocabulary: every stored code is a StrEnum member with one label; the columns' CHECK
constraints allow exactly the members; the pages' label maps are the vocabulary's own."""
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import CheckConstraint

from app.models import Base, vocabulary
from app.models.vocabulary import ALL, OrderStatus

COLUMNS = {  # table.column → its vocabulary
    "documents.kind": "DocumentKind", "documents.status": "DocumentStatus", "organisations.kind": "OrgKind",
    "invoices.status": "InvoiceStatus", "stock_movements.kind": "MovementKind",
    "stock_transfers.status": "TransferStatus", "stock_counts.status": "CountStatus",
    "products.status": "ProductStatus", "payments.method": "PaymentMethod", "credit_notes.reason": "CreditNoteReason",
    "import_batches.status": "ImportStatus", "delivery_sign_offs.method": "SignOffMethod",
    "delivery_discrepancies.kind": "DiscrepancyKind", "return_requests.status": "ReturnStatus", "users.role": "Role",
    "promotions.status": "PromotionStatus", "promotions.kind": "PromotionKind", "promotions.lane": "PromotionLane",
    "promotions.funding": "Funding", "promotion_settlements.status": "SettlementStatus",
    "orders.payment_method": "OrderPayment",
}


def _allowed(table: str, column: str) -> set[str]:
    for constraint in Base.metadata.tables[table].constraints:
        if isinstance(constraint, CheckConstraint):
            match = re.match(rf"^{column} IN \((.*)\)$", str(constraint.sqltext))
            if match:
                return set(re.findall(r"'([^']*)'", match.group(1)))
    raise AssertionError(f"no CHECK on {table}.{column}")


@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_a_checked_column_allows_exactly_its_vocabulary(column):
    table, name = column.split(".")
    assert _allowed(table, name) == set(ALL[COLUMNS[column]].values())


def test_members_are_their_values_and_every_member_has_a_label(app):
    assert str(OrderStatus.DELIVERED) == "delivered" and f"{OrderStatus.ON_HOLD}" == "on_hold"
    with app.test_request_context():
        for cls in ALL.values():
            for member in cls:
                with force_locale("en"):
                    english = str(member.label)
                assert english and not re.search(r"[\u4e00-\u9fff]", english), f"{cls.__name__}.{member.name}"
        assert OrderStatus.label_of("unknown") == "unknown" and OrderStatus.label_of(None) == ""


def test_the_pages_use_the_one_map():
    from app.services.fulfilment import returns
    from app.web.common import listing

    assert listing.STATUS_LABELS is OrderStatus.labels() is vocabulary.OrderStatus.labels()
    assert returns.STATUS_LABELS is vocabulary.ReturnStatus.labels()
    from app.services.ordering import lifecycle

    assert not hasattr(lifecycle, "STATUS_LABELS")
