"""Charts as hand-written SVG, rendered on the server: no JavaScript, valid standalone XML, printable.

Each bar carries its series and value (data-series, data-value) and a <title> a screen reader or a
hover shows, so the figures behind a chart can be read without the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe

from reports.figures import Outcomes, SeriesPoint

INK, MUTED, LINE = "#1b1f24", "#5b6470", "#d5dae0"
ALERTS, FALSE_ALERTS, CONFIRMED = "#0b3d91", "#b00020", "#0a7a3b"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" {FONT}><title>{escape(title)}</title>'
        + "".join(body) + "</svg>")


def _nice_max(value: int) -> int:
    """The y axis top: 1, 2, 5 × 10^n at or above the largest value."""
    top = 1
    while True:
        for factor in (1, 2, 5):
            if top * factor >= value:
                return top * factor
        top *= 10


def series_chart(points: Sequence[SeriesPoint], *, step: str, title: str) -> SafeString:
    """Alerts and false alerts per day or week, side by side."""
    width, height, left, bottom, top = 760, 260, 44, 40, 28
    plot_w, plot_h = width - left - 10, height - top - bottom
    y_max = _nice_max(max([p.alerts for p in points] + [1]))
    slot = plot_w / max(len(points), 1)
    bar = max(slot * 0.38, 1.0)
    label_every = max(1, round(len(points) / 12))
    body = [f'<g class="legend"><rect x="{left}" y="6" width="10" height="10" fill="{ALERTS}"/>'
            f'<text x="{left + 14}" y="15" fill="{INK}">Alerts</text>'
            f'<rect x="{left + 70}" y="6" width="10" height="10" fill="{FALSE_ALERTS}"/>'
            f'<text x="{left + 84}" y="15" fill="{INK}">False alerts</text></g>']
    for tick in (0, y_max // 2 if y_max > 1 else None, y_max):
        if tick is None:
            continue
        y = top + plot_h - plot_h * tick / y_max
        body.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick:,}</text>')
    series = (("alerts", "alert", ALERTS, 0.0), ("false_alerts", "false alert", FALSE_ALERTS, bar))
    for name, noun, colour, offset in series:
        body.append(f'<g class="series" data-series="{name}" fill="{colour}">')
        for i, point in enumerate(points):
            value = getattr(point, name)
            h = plot_h * value / y_max
            x = left + i * slot + (slot - 2 * bar) / 2 + offset
            words = f"{_bucket_label(point, step)}: {value:,} {noun}{'' if value == 1 else 's'}"
            body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                        f'data-start="{point.start.isoformat()}" data-value="{value}">'
                        f'<title>{escape(words)}</title></rect>')
        body.append("</g>")
    for i, point in enumerate(points):
        if i % label_every == 0:
            x = left + i * slot + slot / 2
            body.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="{MUTED}">'
                        f'{escape(point.start.strftime("%-d %b"))}</text>')
    body.append(f'<text x="{left}" y="{height - 6}" fill="{MUTED}">'
                f'{"Week starting (Monday)" if step == "week" else "Day"}</text>')
    return _svg(width, height, title, body)


def _bucket_label(point: SeriesPoint, step: str) -> str:
    day = point.start.strftime("%-d %b %Y")
    return f"week from {day}" if step == "week" else day


def bar_chart(items: Sequence[tuple[str, str, int]], *, title: str, colours: dict[str, str] | None = None
              ) -> SafeString:
    """Horizontal bars: (key, label, value) each; used for outcomes and breakdowns."""
    colours = colours or {}
    row, label_w, width = 26, 170, 560
    height = row * len(items) + 12
    x_max = max([value for _, _, value in items] + [1])
    plot_w = width - label_w - 60
    body = ['<g class="series" data-series="counts">']
    for i, (key, label, value) in enumerate(items):
        y = 6 + i * row
        w = plot_w * value / x_max
        body.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colours.get(key, ALERTS)}" '
            f'data-key={quoteattr(key)} data-value="{value}"><title>{escape(f"{label}: {value:,}")}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="{INK}">{value:,}</text>')
    body.append("</g>")
    return _svg(width, height, title, body)


def outcomes_chart(outcomes: Outcomes, *, title: str) -> SafeString:
    return bar_chart([
        ("confirmed", "Confirmed match", outcomes.confirmed),
        ("not_a_match", "False alert (not a match)", outcomes.not_a_match),
        ("cannot_tell", "Cannot tell", outcomes.cannot_tell),
        ("pending", "Not yet decided", outcomes.pending),
    ], title=title, colours={"confirmed": CONFIRMED, "not_a_match": FALSE_ALERTS, "pending": MUTED})
