"""Server-rendered SVG charts, each with the same figures as a table.

A chart is plain SVG built here (labels escaped): no script, no fonts or styles of its
own beyond a class per series. Every shape carries its print colour as an attribute, so
WeasyPrint (which ignores the page's CSS inside SVG) draws the PDF in colour; in the
admin, the classes pick colours from CSS variables with light and dark values
(``templates/wagtail_tickets/analytics/chart_styles.html``), and text and axes use
``currentColor``, so the charts follow Wagtail's theme.
"""

import math
from dataclasses import dataclass, field
from itertools import count

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

#: Print colours of the series (the CSS variables default to the same).
COLOURS = ("#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
_ids = count(1)


@dataclass
class Series:
    name: str
    values: list
    index: int = 0  # which colour


@dataclass
class Chart:
    title: str
    description: str
    svg: str
    head: list
    rows: list
    chart_id: str = field(default_factory=lambda: f"wt-chart-{next(_ids)}")

    def __post_init__(self):
        self.svg = mark_safe(self.svg.replace("{ID}", self.chart_id))

    @property
    def table_html(self):
        """The figures as the rows of a table, built here: a template loop over a year of
        weeks cost more than the chart."""
        head = "".join(
            f'<th scope="col">{escape(heading or gettext("Period"))}</th>' for heading in self.head
        )
        body = "".join(
            f'<tr><th scope="row">{escape(row[0])}</th>'
            + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
            + "</tr>"
            for row in self.rows
        )
        if not body:
            empty = escape(gettext("No figures in this period."))
            body = f'<tr><td colspan="{len(self.head)}">{empty}</td></tr>'
        return mark_safe(f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>")


def nice_ceiling(value):
    """A round upper bound for an axis: four ticks of 1, 2 or 5 times a power of ten
    (4, 8, 20, 40, 80, 200...), or the value itself up to 4."""
    if value <= 0:
        return 1
    if value <= 4:
        return math.ceil(value)
    wanted = value / 4
    power = 10 ** math.floor(math.log10(wanted))
    for step in (1, 2, 5, 10):
        if step * power >= wanted:
            return 4 * step * power
    return 40 * power  # pragma: no cover


def _number(value):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _fill(index):
    return COLOURS[index % len(COLOURS)]


def _svg_open(width, height):
    return (
        f'<svg class="wt-chart__svg" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="{{ID}}-title" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">'
    )


def _y_axis(parts, top, bottom, left, right, ceiling, ticks=4):
    if ceiling < ticks and ceiling == int(ceiling):
        ticks = max(int(ceiling), 1)  # whole numbers only: counts have no halves
    for n in range(ticks + 1):
        value = ceiling * n / ticks
        y = bottom - (bottom - top) * n / ticks
        label = f"{value:g}" if value != int(value) else str(int(value))
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" '
            f'stroke-opacity="{0.35 if n == 0 else 0.12}" class="wt-chart__grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="currentColor" '
            f'class="wt-chart__tick">{label}</text>'
        )


def _x_labels(parts, labels, left, step, bottom, every):
    for n, label in enumerate(labels):
        if n % every:
            continue
        x = left + step * (n + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="currentColor" '
            f'class="wt-chart__tick">{escape(label)}</text>'
        )


def _legend(parts, series, x, y):
    for serie in series:
        parts.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{_fill(serie.index)}" '
            f'class="wt-chart__series wt-chart__series--{serie.index + 1}"/>'
            f'<text x="{x + 14}" y="{y}" fill="currentColor">{escape(serie.name)}</text>'
        )
        x += 24 + 7 * len(serie.name)


def bars(title, description, labels, series, *, width=720, height=260):
    """Grouped vertical bars, one group per label (e.g. new and resolved per week)."""
    top, bottom, left, right = 28, height - 28, 44, width - 8
    ceiling = nice_ceiling(max([v or 0 for s in series for v in s.values] or [0]))
    step = (right - left) / max(len(labels), 1)
    gap = min(step * 0.2, 6)
    bar = max((step - gap) / max(len(series), 1), 1)
    parts = [_svg_open(width, height)]
    _legend(parts, series, left, 14)
    _y_axis(parts, top, bottom, left, right, ceiling)
    for n, label in enumerate(labels):
        for k, serie in enumerate(series):
            value = serie.values[n] or 0
            h = (bottom - top) * value / ceiling
            x = left + step * n + gap / 2 + bar * k
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{_fill(serie.index)}" '
                f'class="wt-chart__series wt-chart__series--{serie.index + 1}">'
                f"<title>{escape(label)}: {escape(serie.name)} {value}</title></rect>"
            )
    _x_labels(parts, labels, left, step, bottom, max(1, math.ceil(len(labels) / 12)))
    parts.append("</svg>")
    rows = [[label, *(_number(s.values[n]) for s in series)] for n, label in enumerate(labels)]
    return Chart(title, description, "".join(parts), ["", *(s.name for s in series)], rows)


def lines(title, description, labels, series, *, width=720, height=220):
    """Lines over the labels (e.g. the backlog at the end of each week); None leaves a gap."""
    top, bottom, left, right = 28, height - 28, 44, width - 8
    ceiling = nice_ceiling(max([v or 0 for s in series for v in s.values] or [0]))
    step = (right - left) / max(len(labels), 1)
    parts = [_svg_open(width, height)]
    _legend(parts, series, left, 14)
    _y_axis(parts, top, bottom, left, right, ceiling)
    for serie in series:
        segment = []
        for n, value in enumerate([*serie.values, None]):
            if value is None:
                if segment:
                    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
                    parts.append(
                        f'<polyline points="{points}" fill="none" stroke="{_fill(serie.index)}" '
                        f'stroke-width="2.5" stroke-linejoin="round" '
                        f'class="wt-chart__line wt-chart__line--{serie.index + 1}"/>'
                    )
                    if len(segment) == 1:
                        x, y = segment[0]
                        parts.append(
                            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" '
                            f'fill="{_fill(serie.index)}" '
                            f'class="wt-chart__series wt-chart__series--{serie.index + 1}"/>'
                        )
                segment = []
                continue
            x = left + step * (n + 0.5)
            y = bottom - (bottom - top) * value / ceiling
            segment.append((x, y))
    _x_labels(parts, labels, left, step, bottom, max(1, math.ceil(len(labels) / 12)))
    parts.append("</svg>")
    rows = [[label, *(_number(s.values[n]) for s in series)] for n, label in enumerate(labels)]
    return Chart(title, description, "".join(parts), ["", *(s.name for s in series)], rows)


def hbars(title, description, items, *, value_label, share=False, formatter=None, width=720):
    """Horizontal bars, one per (label, value) item; ``share`` shows values as percent,
    ``formatter`` turns a value into the text shown."""
    row = 26
    label_width = 200
    left, right = label_width + 8, width - (110 if formatter is not None else 60)
    height = 12 + row * max(len(items), 1)
    ceiling = max([value or 0 for _label, value in items] or [0]) or 1
    if share:
        ceiling = max(ceiling, 0.0001)
    parts = [_svg_open(width, height)]
    for n, (label, value) in enumerate(items):
        y = 6 + row * n
        length = (right - left) * (value or 0) / ceiling
        if formatter is not None:
            shown = formatter(value)
        else:
            shown = f"{(value or 0) * 100:.0f} %" if share else _number(value)
        text = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f'<text x="{label_width}" y="{y + 15}" text-anchor="end" fill="currentColor">'
            f"<title>{escape(label)}</title>{escape(text)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{_fill(0)}" class="wt-chart__series wt-chart__series--1"/>'
            f'<text x="{left + length + 6:.1f}" y="{y + 15}" fill="currentColor" '
            f'class="wt-chart__value">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    rows = [
        [
            label,
            formatter(value)
            if formatter is not None
            else (f"{(value or 0) * 100:.1f} %" if share else _number(value)),
        ]
        for label, value in items
    ]
    return Chart(title, description, "".join(parts), ["", value_label], rows)
