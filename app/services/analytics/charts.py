"""Server-side SVG charts (pygal): no script, no web font, scalable to any width (viewBox).

Callers pass labels already in the reader's language; every chart sits next to a table with
the same figures, which is the fallback for screen readers and for printing.
"""
from __future__ import annotations

import math
import re
from html import escape

import pygal
from pygal.style import Style

# pygal always writes its tooltip configuration as an inline <script> and its colours as inline
# <style> blocks; our pages allow neither (Content-Security-Policy: scripts and styles only from
# /static). The chart needs no script, and its styles live in static/charts.css, made by
# `stylesheet()` below (a test keeps the file equal to it) and linked by pages with charts.
_INLINE = re.compile(r"<(script|style)\b.*?</\1>", re.S)
_CHART_ID = re.compile(r"#chart-[0-9a-f-]{36}")
# Without a drawn title pygal names every chart "Pygal" in its <title> (hover text, what a screen
# reader announces); the charts here are named by the caller instead, without drawing the name
# (the page's heading already shows it).
_DEFAULT_TITLE = "<title>Pygal</title>"


def _finish(svg: str, title: str) -> str:
    return _INLINE.sub("", svg).replace(_DEFAULT_TITLE, f"<title>{escape(title, quote=False)}</title>", 1)

# The drawing's width in its own units; the page scales it to the column (static/app.css: at most
# 36rem), so 14-unit labels read at about 10.5 px on a 360 px phone and 18 px at full width (640
# units with 12-unit labels showed them at 6 px on a phone).
WIDTH = 440
STYLE = Style(font_family="sans-serif", background="transparent", plot_background="transparent",
              colors=("#1f6f5c", "#d9822b", "#6b7b8c", "#b23b3b"), label_font_size=14,
              major_label_font_size=14, legend_font_size=14, value_font_size=12, title_font_size=15)


def _wide_label_room(labels: list[str]) -> int:
    """Room pygal's width estimate leaves out: it counts every character as 0.6 em, and a Chinese
    character takes a whole em, so long shop or dealer names were cut at the chart's left edge."""
    wide = max((sum(1 for ch in label if ord(ch) > 0x2E80) for label in labels), default=0)
    return round(wide * 0.4 * STYLE.label_font_size)


def _label_width(label: str) -> float:
    """A label's width in drawing units: a Chinese character an em, anything else 0.6 em."""
    wide = sum(1 for ch in label if ord(ch) > 0x2E80)
    return (wide + 0.6 * (len(label) - wide)) * STYLE.label_font_size


def _nice_ticks(values: list[float | None], most: int = 4) -> list[float]:
    """At most `most` + 1 round value-axis ticks (steps of 1, 2 or 5 × 10ⁿ) covering 0 and the
    values: pygal's own choice (ten ticks of up to six digits) overlapped on a phone."""
    present = [v for v in values if v is not None]
    low, high = min([0.0, *present]), max([0.0, *present])
    if high == low:
        return [low, low + 1]
    raw = (high - low) / most
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [n * step for n in range(first, last + 1)]


def line_chart(title: str, labels: list[str], series: list[tuple[str, list[float | None]]], every: int = 13) -> str:
    """A line chart of weekly (or other) values named `title`; `every` picks which x labels are printed."""
    if len(labels) > 1:
        # Wide labels (a partial week "11-30（1天）") collided on a phone: print fewer so each has room.
        spacing = (WIDTH - 8 - 24 - 70) / (len(labels) - 1)
        every = max(every, math.ceil((max(_label_width(label) for label in labels) + 8) / spacing))
    major = labels[::every]
    # A label is centred on its point: the last one (e.g. a partial week "11-30（3天）") needs half its width.
    right = max(24, round(_label_width(labels[-1]) / 2) + 4) if labels and major and major[-1] is labels[-1] else 24
    chart = pygal.Line(js=[], disable_xml_declaration=True, width=WIDTH, height=220, show_dots=False,
                       show_minor_x_labels=False, truncate_label=-1, style=STYLE, legend_at_bottom=True,
                       margin=8, margin_right=right, print_values=False, allow_interruptions=True)
    chart.x_labels = labels
    chart.x_labels_major = major
    for name, values in series:
        chart.add(name, values)
    return _finish(chart.render(is_unicode=True), title)


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list[float | None]]]) -> str:
    """A horizontal bar chart named `title` (long Chinese labels stay readable on a phone)."""
    chart = pygal.HorizontalBar(js=[], disable_xml_declaration=True, width=WIDTH, height=max(200, 28 * len(labels) + 80),
                                style=STYLE, legend_at_bottom=True, margin=8, truncate_label=-1,
                                margin_left=8 + _wide_label_room(labels))
    chart.x_labels = labels
    ticks = _nice_ticks([v for _name, values in series for v in values])
    chart.y_labels, chart.range = ticks, (ticks[0], ticks[-1])
    for name, values in series:
        chart.add(name, values)
    return _finish(chart.render(is_unicode=True), title)


def column_chart(labels: list[str], name: str, values: list[float]) -> str:
    """A small vertical bar chart of a few periods (a home page's last weeks)."""
    chart = pygal.Bar(js=[], disable_xml_declaration=True, width=WIDTH, height=180, style=STYLE, margin=8,
                      show_legend=False, truncate_label=-1, title=name)
    chart.x_labels = labels
    chart.add(name, values)
    return _INLINE.sub("", chart.render(is_unicode=True))


def stylesheet() -> str:
    """The CSS pygal would inline in each chart, for every chart kind used here, scoped to
    `.chart svg` instead of one chart's id (the content of static/charts.css)."""
    blocks: list[str] = []
    for kind in (pygal.Line, pygal.Bar, pygal.HorizontalBar):
        chart = kind(js=[], style=STYLE, disable_xml_declaration=True)
        chart.x_labels = ["a", "b"]
        for n in range(len(STYLE.colors)):
            chart.add(str(n), [1, 2])
        for css in re.findall(r"<style[^>]*>(.*?)</style>", chart.render(is_unicode=True), re.S):
            css = _CHART_ID.sub(".chart svg", css).replace("&gt;", ">").strip()
            if css not in blocks:
                blocks.append(css)
    return "/* Made by app.services.analytics.charts.stylesheet(); do not edit. */\n" + "\n".join(blocks) + "\n"
