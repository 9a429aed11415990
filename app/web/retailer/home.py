from flask_babel import get_locale
from flask_login import current_user

from app.services.analytics.today import new_products
from app.services.ordering import orders as ordering
from app.web.common.access import current_org
from app.web.common.conditional import revalidate
from app.web.common.forms import ActionForm
from app.web.common.listing import STATUS_LABELS
from app.web.retailer import bp
from app.web.retailer.common import retailer_page


@bp.route("/")
def home():
    recent = ordering.recent_orders(ordering.orders_visible_to(current_user), limit=5)
    return revalidate(retailer_page("retailer/home.html", recent=recent, status_labels=STATUS_LABELS,
                                    reorder_form=ActionForm(), new=new_products(current_org()),
                                    locale=str(get_locale())))
