"""The dealer's presale pipeline (read-only): its retailers' presale orders per release date and
product, waiting, released and with a balance still due, for planning its stock."""
from flask_login import current_user

from app.services.campaigns import presale_reports
from app.web.common.htmx import render_page
from app.web.dealer import bp


@bp.get("/presale")
def presale_pipeline():
    return render_page("dealer/presale.html", rows=presale_reports.pipeline(current_user.org_id))
