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


def _value_labels(svg: str) -> list[str]:
    return re.findall(r"<text [^>]*>(-?\d[\d.]*)</text>", svg)


def test_bar_chart_values_get_a_few_round_ticks_that_do_not_overlap_on_a_phone():
    svg = bar_chart("按经销商", ["威海嘉诚供应链有限公司", "吕梁康达食品有限公司"], [("本期", [103_601.4, 89_644.3])])
    assert _value_labels(svg) == ["0", "50000", "100000", "150000"]  # was 0, 10000 … 100000: eleven 6-digit labels


def test_the_last_partial_week_label_keeps_room_on_the_right():
    from app.services.analytics.charts import WIDTH, _label_width, line_chart
    svg = line_chart("每周趋势", ["10-26（1天）", "11-02", "11-09", "11-30（1天）"], [("净额", [1, 2, 3, 4])], every=1)
    plot_x, plot_width = re.search(r'<g transform="translate\(([\d.]+), [\d.]+\)" class="plot"><rect x="0" y="0" '
                                   r'width="([\d.]+)"', svg).groups()
    assert float(plot_x) + float(plot_width) + _label_width("11-30（1天）") / 2 <= WIDTH


def test_wide_week_labels_are_thinned_so_they_do_not_collide():
    from app.services.analytics.charts import line_chart
    labels = ["10-26（1天）", "11-02", "11-09", "11-16", "11-23", "11-30（1天）"]
    svg = line_chart("每周趋势", labels, [("净额", [1, 2, 3, 4, 5, 6])], every=1)
    shown = [label for label in labels if f">{label}</text>" in svg]
    assert shown[0] == "10-26（1天）" and len(shown) < len(labels)
