"""Rebate maths at the tier boundaries (half-open intervals), caps, rounding once, periods."""
from datetime import date

import pytest

from app.services.rebates.maths import Terms, period_bounds, progress, rebate

YUAN = 100
TIERS = ((0, 200), (1_000_000 * YUAN, 300), (2_000_000 * YUAN, 400))  # 2 % / 3 % from ¥1M / 4 % from ¥2M


@pytest.mark.parametrize("base, expected", [
    (1_000_000 * YUAN - 1, 2_000_000),      # one fen below: still 2 % on all (1,999,999.98 fen, half up)
    (1_000_000 * YUAN, 3_000_000),          # exactly at the threshold: 3 % on all
    (2_000_000 * YUAN - 1, 6_000_000),       # 199,999,999 × 3 % = 5,999,999.97
    (2_000_000 * YUAN, 8_000_000),
    (0, 0), (-5_000, 0),
])
def test_retroactive_tiers_pay_the_reached_rate_on_the_whole_total(base, expected):
    assert rebate(Terms("retroactive", tiers=TIERS), base) == expected


@pytest.mark.parametrize("base, expected", [
    (1_000_000 * YUAN - 1, 2_000_000),                 # all in the first slice (1,999,999.98 fen)
    (1_000_000 * YUAN, 2_000_000),                     # the second slice is empty at its own start
    (1_000_000 * YUAN + 100, 2_000_000 + 3),           # ¥1 over: that yuan at 3 %
    (2_000_000 * YUAN - 1, 2_000_000 + 3_000_000),     # 99,999,999 fen at 3 % = 2,999,999.97, with the rest: 4,999,999.97
    (2_500_000 * YUAN, 2_000_000 + 3_000_000 + 2_000_000),
])
def test_incremental_tiers_pay_each_slice_its_rate(base, expected):
    assert rebate(Terms("incremental", tiers=TIERS), base) == expected


def test_rounding_is_half_up_once_and_the_cap_holds():
    assert rebate(Terms("flat", rate_bp=250), 1) == 0          # 0.025 fen
    assert rebate(Terms("flat", rate_bp=250), 20) == 1         # 0.5 fen rounds up
    assert rebate(Terms("incremental", tiers=((0, 150), (100, 250))), 101) == 2  # 1.5 + 0.025 = 1.525 → 2 (once)
    assert rebate(Terms("flat", rate_bp=300, cap_fen=1_000), 1_000_000) == 1_000
    assert rebate(Terms("per_case", per_case_fen=150), 40) == 6_000


def test_below_the_first_threshold_nothing_is_earned_and_progress_names_the_next_step():
    terms = Terms("retroactive", tiers=((100_000 * YUAN, 200), (1_000_000 * YUAN, 300)))
    assert rebate(terms, 100_000 * YUAN - 1) == 0
    p = progress(Terms("retroactive", tiers=((0, 200), (1_000_000 * YUAN, 300))), 812_000 * YUAN)
    assert (p.earned_fen, p.next_from, p.next_rate, p.missing) == (16_240 * YUAN, 1_000_000 * YUAN, 300, 188_000 * YUAN)
    assert p.percent_to_next == 81 and p.earned_at_next_fen == 30_000 * YUAN


def test_periods_are_calendar_months_quarters_and_years():
    assert period_bounds("month", date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_bounds("quarter", date(2026, 12, 31)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_bounds("year", date(2026, 5, 5)) == (date(2026, 1, 1), date(2026, 12, 31))
