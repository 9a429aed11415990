"""The retailer's statement of account (对账单): invoices for its orders, payments, credit notes
and the balance owed, for a period; the dealers' statement service and template, for the
retailer's own account only."""
from flask import url_for

from app.web.common.access import current_org
from app.web.retailer import bp
from app.web.shared.credit.views import statement_page


@bp.route("/statement")
def statement():
    return statement_page("retailer/statement.html", customer=current_org(), seller=None,
                          action=url_for("retailer.statement"))
