"""Server-side charts: Chinese labels get the room they take (pygal counts 0.6 em a character)."""
from __future__ import annotations

import re

from app.services.analytics.charts import STYLE, bar_chart


def _plot_left(svg: str) -> float:
    return float(re.search(r'<g transform="translate\(([\d.]+), [\d.]+\)" class="plot"', svg).group(1))


def test_a_long_chinese_label_fits_left_of_the_bars():
    name = "杭州市西湖区经销商零零一"  # 12 characters, each a whole em wide
    svg = bar_chart("按经销商", [name, "短"], [("本期", [3, 1])])
    assert _plot_left(svg) >= len(name) * STYLE.label_font_size
    assert _plot_left(bar_chart("by dealer", ["Dealer 001"], [("now", [3])])) < len(name) * STYLE.label_font_size
