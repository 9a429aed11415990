"""The brand's promotions list says what a budget of uses counts (it read "0 / 5000" beside budgets in yuan)."""
from app.extensions import db
from tests import builders_promotions as promos


def test_the_list_says_a_use_budget_is_counted_in_uses(world, login_as):
    promos.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000}, budget_uses=5000,
                     name="领券折扣")
    db.session.commit()
    admin = login_as("admin")
    assert "0 / 5000 次" in admin.get("/admin/promotions").get_data(as_text=True)
    admin.post("/locale", {"locale": "en", "next": "/admin/promotions"})
    assert "0 / 5000 uses" in admin.get("/admin/promotions").get_data(as_text=True)
