"""Rebate pages: the brand's agreement form (errors next to the field, nothing saved), accruals
with an XLSX export, settlement runs approved on the page, the exposure; a dealer's agreements
with progress and the maths, its statement and balance; a dealer never sees another dealer's
agreements, accruals or balance (404 on a foreign id); admins without "marketing" get 403."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.rebates import RebateAgreement, RebateSettlement
from app.services.core.clock import today_local
from app.services.rebates import balance
from tests import builders_rebates as br
from tests import factories


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def setup(app, world):
    """Dealer: retroactive tiers 2 % / 3 % from ¥1,000 and ¥812 invoiced; dealer_b: its own agreement."""
    with app.test_request_context():
        drink = factories.product(base_price_fen=8_120)
        mine = br.agreement(world.users["admin"], world.orgs["dealer"], code="RB-HZ", mode="retroactive",
                            tiers=[[0, 200], [100_000, 300]])
        theirs = br.agreement(world.users["admin"], world.orgs["dealer_b"], code="RB-CD", payout="balance",
                              balance_share_pct=20)
        br.invoiced(world.orgs["dealer"], world.brand, [(drink, 10)])
        balance.move(world.orgs["dealer_b"].id, 9_900, "settlement", ref="RB-CD")
        db.session.commit()
    return mine, theirs


FORM = {"code": "RB-NEW", "name": "季度返利", "dealer": "", "dealer_tier": "A", "period": "quarter",
        "basis": "invoiced", "scope": "all", "mode": "incremental", "rate": "", "tiers": "0:1, 500000:2.5",
        "per_case": "", "cap": "20000", "payout": "credit_note", "balance_share_pct": "", "starts_on": "2026-01-01",
        "ends_on": "", "status": "active"}


def test_the_form_saves_an_agreement_and_refuses_bad_input_next_to_the_field(world, login_as):
    admin = login_as("admin")
    assert admin.get("/admin/rebates/new").status_code == 200
    bad = admin.post("/admin/rebates/new", {**FORM, "tiers": "500000:2, 0:1"})
    assert bad.status_code == 400 and 'id="field-tiers"' in text(bad) and "阶梯起点须从小到大" in text(bad)
    both = admin.post("/admin/rebates/new", {**FORM, "dealer": world.orgs["dealer"].code})
    assert both.status_code == 400 and "二选一" in text(both)
    wrong = admin.post("/admin/rebates/new", {**FORM, "tiers": "abc"})
    assert wrong.status_code == 400 and "起点:比例" in text(wrong)
    assert db.session.scalar(select(func.count()).select_from(RebateAgreement)) == 0
    ok = admin.post("/admin/rebates/new", FORM)
    assert ok.status_code == 303
    row = db.session.scalar(select(RebateAgreement))
    assert (row.dealer_tier, row.tiers, row.cap_fen, row.mode) == ("A", [[0, 100], [50_000_000, 250]], 2_000_000,
                                                                   "incremental")
    listing = text(admin.get("/admin/rebates/"))
    assert "RB-NEW" in listing and "A 级经销商（1 家）" in listing and "[¥0.00, ¥500,000.00) 1%" in listing
    edit = text(admin.get(f"/admin/rebates/{row.id}/edit"))
    assert 'value="0:1, 500000:2.5"' in edit


def test_accruals_settlements_and_exposure_for_the_brand(app, world, setup, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # the job runs inline after the commit
    mine, _theirs = setup
    admin = login_as("admin")
    page = text(admin.get(f"/admin/rebates/{mine.id}/accruals"))
    assert "¥812.00" in page and "发票 INV" in page
    export = admin.get(f"/admin/rebates/{mine.id}/accruals.xlsx")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    exposure = admin.get("/admin/rebates/exposure")
    assert "杭州经销商" in text(exposure) and "¥16.24" in text(exposure)  # ¥812 at 2 %
    nav = exposure.get_data(as_text=True).split('<nav class="subnav"', 1)[1].split("</nav>", 1)[0]
    assert 'aria-current="page">本期预计返利</a>' in nav and nav.count("aria-current") == 1 and "·" not in nav
    fragment = admin.get("/admin/rebates/exposure", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers.get("Vary", "")
    late = admin.post("/admin/rebates/settlements", {"as_of": "2999-01-01"})
    assert late.status_code == 400 and "不能晚于今天" in text(late)
    ran = admin.post("/admin/rebates/settlements", {"as_of": today_local().isoformat()})
    assert ran.status_code == 303
    [draft] = db.session.scalars(select(RebateSettlement).where(RebateSettlement.dealer_id == world.orgs["dealer"].id))
    assert draft.amount_fen == 1_624 and "批准并入账" in text(admin.get("/admin/rebates/settlements"))
    assert admin.post(f"/admin/rebates/settlements/{draft.id}/approve", {}).status_code == 303
    db.session.expire_all()
    assert db.session.get(RebateSettlement, draft.id).status == "approved"
    assert login_as("admin_b").get("/admin/rebates/").status_code == 403
    assert login_as("dealer").post(f"/admin/rebates/settlements/{draft.id}/approve", {}).status_code in (403, 404)


def test_a_dealer_sees_its_progress_and_the_maths_and_never_another_dealers(world, setup, login_as):
    mine, theirs = setup
    dealer = login_as("dealer")
    page = text(dealer.get("/dealer/rebates/"))
    assert "已完成 ¥812.00 / ¥1,000.00，再完成 ¥188.00 可达 3%" in page and "预计返利 ¥16.24" in page
    assert "RB-CD" not in page and "<progress" in page
    statement = dealer.get(f"/dealer/rebates/{mine.id}")
    assert statement.status_code == 200 and "INV" in text(statement)
    assert dealer.get(f"/dealer/rebates/{mine.id}/accruals.xlsx").status_code == 200
    assert dealer.get(f"/dealer/rebates/{theirs.id}").status_code == 404
    assert dealer.get(f"/dealer/rebates/{theirs.id}/accruals.xlsx").status_code == 404
    assert "¥99.00" not in text(dealer.get("/dealer/rebates/balance"))
    other = login_as("dealer_b")
    assert other.get(f"/dealer/rebates/{mine.id}").status_code == 404
    assert "余额 ¥99.00" in text(other.get("/dealer/rebates/balance"))
    fragment = other.get("/dealer/rebates/", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert login_as("retailer").get("/dealer/rebates/").status_code == 403


def test_the_lists_read_a_fixed_number_of_queries(app, world, setup):
    """The exposure and the runs with their settlements cost the same with one dealer or two."""
    from app.services.rebates import reports, settlement
    from tests import builders_ordering as bo

    def shown():
        db.session.expire_all()
        with app.test_request_context(), bo.count_queries() as queries:
            rows = reports.exposure()
            [(r.dealer.name, r.progress.earned_fen) for r in rows]
            for run in settlement.recent_runs():
                [(s.dealer.name, s.agreement.code, s.credit_note.number if s.credit_note else None)
                 for s in run.settlements]
        return len(queries)

    with app.test_request_context():
        settlement.run_settlement(today_local())
        db.session.commit()
    one = shown()
    with app.test_request_context():
        br.invoiced(world.orgs["dealer_b"], world.brand, [(factories.product(base_price_fen=5_000), 4)])
        br.agreement(world.users["admin"], None, code="RB-TIER-A", dealer_tier="A")
        settlement.run_settlement(today_local())
        db.session.commit()
    assert shown() == one


def test_tiers_are_separated_in_the_readers_language(world, setup, login_as):
    admin = login_as("admin")
    assert "[¥0.00, ¥1,000.00) 2%；[¥1,000.00, ∞) 3%" in text(admin.get("/admin/rebates/"))
    admin.post("/locale", {"locale": "en", "next": "/admin/rebates/"})
    english = text(admin.get("/admin/rebates/"))
    assert "[¥0.00, ¥1,000.00) 2%; [¥1,000.00, ∞) 3%" in english and "；" not in english
