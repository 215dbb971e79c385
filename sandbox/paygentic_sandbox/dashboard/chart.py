"""Usage over time: the quantities of each (billable metric, customer) pair summed into
time buckets, drawn as an inline SVG line chart.

The bucket width is the smallest of BUCKETS that needs at most MAX_BUCKETS buckets for the
span shown. Every point carries its numbers as data attributes (`data-metric`,
`data-customer`, `data-bucket-start`, `data-quantity`) and a <title> tooltip, so that a test
(or a curious reader) can check them against the stored events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from paygentic_sandbox import timestamps
from paygentic_sandbox.dashboard.html import esc
from paygentic_sandbox.dashboard.queries import Usage

_SECOND = 1_000_000
BUCKETS = [
    (_SECOND, "second"),
    (10 * _SECOND, "10 seconds"),
    (60 * _SECOND, "minute"),
    (600 * _SECOND, "10 minutes"),
    (3600 * _SECOND, "hour"),
    (6 * 3600 * _SECOND, "6 hours"),
    (86400 * _SECOND, "day"),
    (7 * 86400 * _SECOND, "week"),
    (30 * 86400 * _SECOND, "30 days"),
    (365 * 86400 * _SECOND, "365 days"),
]
MAX_BUCKETS = 48
MAX_SERIES_DRAWN = 10
PALETTE = [
    "#3b6fd8", "#d8533b", "#2e9e5b", "#9b4fd0", "#d89a1b",
    "#1ba3b8", "#c2407d", "#6b7a1f", "#7f5539", "#4b5563",
]  # fmt: skip

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 15, 40


@dataclass
class Series:
    metric: str
    customer_id: str
    # bucket start (µs since the epoch) -> summed quantity
    points: dict[int, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.points.values(), Decimal(0))


@dataclass(frozen=True)
class UsageChart:
    bucket_us: int
    bucket_name: str
    series: list[Series]  # largest total first
    # The first and the last bucket of the time axis (the charts of one page share it).
    first_us: int = 0
    last_us: int = 0


def bucket_for(span_us: int) -> tuple[int, str]:
    for width, name in BUCKETS:
        if span_us // width + 1 <= MAX_BUCKETS:
            return width, name
    return BUCKETS[-1]


def summed(usage: Sequence[Usage]) -> UsageChart:
    if not usage:
        return UsageChart(*BUCKETS[0], [])
    first = min(u.timestamp_us for u in usage)
    last = max(u.timestamp_us for u in usage)
    width, name = bucket_for(last - first)
    sums: dict[tuple[str, str], dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for u in usage:
        sums[(u.metric, u.customer_id)][u.timestamp_us - u.timestamp_us % width] += u.quantity
    series = [Series(metric, customer, dict(points)) for (metric, customer), points in sums.items()]
    series.sort(key=lambda s: (-s.total, s.metric, s.customer_id))
    return UsageChart(width, name, series, first - first % width, last - last % width)


def quantity_text(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f")


def by_metric(chart: UsageChart) -> dict[str, UsageChart]:
    """One chart per billable metric (quantities of different metrics share no unit), each
    with one series per customer, on the buckets of the whole chart."""
    charts: dict[str, UsageChart] = {}
    for series in chart.series:
        charts.setdefault(
            series.metric,
            UsageChart(chart.bucket_us, chart.bucket_name, [], chart.first_us, chart.last_us),
        )
        charts[series.metric].series.append(series)
    return charts


def nice_top(top: Decimal) -> Decimal:
    """The smallest of 1, 2, 4, 5, 8 or 10 times a power of ten that is at least `top`, so
    that the four grid steps up to it are round numbers."""
    if top <= 0:
        return Decimal(1)
    power = Decimal(10) ** top.adjusted()
    return next(m * power for m in (1, 2, 4, 5, 8, 10) if m * power >= top)


def svg(chart: UsageChart) -> str:
    """The chart of the first MAX_SERIES_DRAWN series; '' when there is nothing to draw."""
    drawn = chart.series[:MAX_SERIES_DRAWN]
    if not drawn:
        return ""
    x0, x1 = chart.first_us, chart.last_us
    top = nice_top(max(q for s in drawn for q in s.points.values()))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(start: int) -> float:
        return LEFT + (plot_w / 2 if x1 == x0 else (start - x0) / (x1 - x0) * plot_w)

    def y(quantity: Decimal) -> float:
        return TOP + plot_h - float(quantity / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="usage-chart" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'data-bucket-us="{chart.bucket_us}">',
        f"<title>Usage per {esc(chart.bucket_name)}</title>",
    ]
    for i in range(5):  # horizontal grid lines with their quantity
        level = top * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            'stroke="#e3e6eb"/>'
            f'<text x="{LEFT - 6}" y="{y(level) + 4:.1f}" text-anchor="end">'
            f"{esc(quantity_text(level))}</text>"
        )
    for start, anchor in _time_labels(x0, x1, chart.bucket_us):
        parts.append(
            f'<text x="{x(start):.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">'
            f"{esc(_when(start, chart.bucket_us))}</text>"
        )
    for index, series in enumerate(drawn):
        color = PALETTE[index % len(PALETTE)]
        points = sorted(series.points.items())
        line = " ".join(f"{x(start):.1f},{y(q):.1f}" for start, q in points)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{line}"/>')
        for start, quantity in points:
            when = timestamps.format_utc(start)
            parts.append(
                f'<circle class="point" cx="{x(start):.1f}" cy="{y(quantity):.1f}" r="4" '
                f'fill="{color}" data-metric="{esc(series.metric)}" '
                f'data-customer="{esc(series.customer_id)}" data-bucket-start="{esc(when)}" '
                f'data-quantity="{esc(quantity_text(quantity))}">'
                f"<title>{esc(series.metric)} · {esc(series.customer_id)} · {esc(when)}: "
                f"{esc(quantity_text(quantity))}</title></circle>"
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></i>'
        f"{esc(s.customer_id)}</span>"
        for i, s in enumerate(drawn)
    )
    return "".join(parts) + f'<p class="legend">{legend}</p>'


def _time_labels(x0: int, x1: int, bucket_us: int) -> list[tuple[int, str]]:
    """Up to five bucket starts to label along the time axis, and their text anchors."""
    if x1 == x0:
        return [(x0, "middle")]
    buckets = (x1 - x0) // bucket_us
    steps = min(4, buckets)
    starts = [x0 + (buckets * i // steps) * bucket_us for i in range(steps + 1)]
    return [(s, "start" if s == x0 else "end" if s == x1 else "middle") for s in starts]


def _when(start: int, bucket_us: int) -> str:
    text = timestamps.format_utc(start)  # 2026-03-02T08:00:00Z
    if bucket_us >= 86400 * _SECOND:
        return text[:10]
    return text[:10] + " " + text[11 : 16 if bucket_us >= 60 * _SECOND else 19]
