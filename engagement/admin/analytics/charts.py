"""Charts drawn on the server as inline SVG: no script, no CDN, readable in print.

Each chart is an <svg role="img"> with a <title> and <desc> (read by screen readers), axis
labels as text, and a <title> on every mark (the browser's tooltip, and the figure a
screen reader announces). Colours come from a palette that stays distinct in greyscale
print, and every series is also named in a legend. The numbers behind each chart are
rendered beside it as a table by the template, so no figure lives only in a picture.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from engagement.admin.display import STATUS_LABELS, status_colour

PALETTE = ("#1f5f99", "#e07b00", "#3a9a4a", "#b8323a", "#7a4ea3", "#6b6b6b", "#c9a100")
_ids = itertools.count(1)

Number = int | float | None


def _fmt_default(value) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    try:
        return f"{value:,}"
    except (TypeError, ValueError):
        return str(value)


def _num(value) -> float:
    return float(value) if value is not None else 0.0


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _open(
    title: str, desc: str, width: int, height: int, css: str, fluid: bool = True
) -> tuple[str, str]:
    """The <svg> head. Fluid charts fill their box; others (grids) keep their natural size."""
    uid = f"chart{next(_ids)}"
    size = 'width="100%"' if fluid else f'width="{width}" height="{height}"'
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="crm-chart {css}" role="img" '
        f'viewBox="0 0 {width} {height}" {size} preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{uid}-t {uid}-d">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
    )
    return uid, head


def _axes(
    labels: Sequence[str],
    top: float,
    left: int,
    plot_w: float,
    plot_h: int,
    pad: int,
    fmt: Callable,
) -> str:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = pad + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">'
            f"{escape(fmt(value if top >= 4 else round(value, 2)))}</text>"
        )
    step = max(1, len(labels) // 12)
    slot = plot_w / max(1, len(labels))
    for i, label in enumerate(labels):
        if i % step == 0:
            x = left + slot * (i + 0.5)
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{pad + plot_h + 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{left + plot_w:.1f}" y1="{pad + plot_h}" '
        f'y2="{pad + plot_h}"/>'
    )
    return "".join(parts)


def _legend(names: Sequence[str], left: int, y: int) -> str:
    parts, x = [], left
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text class="legend" x="{x + 14}" y="{y}">{escape(name)}</text>'
        )
        x += 22 + round(5.8 * len(name))  # about the width of 10px sans-serif text
    return "".join(parts)


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    fmt: Callable = _fmt_default,
    width: int = 640,
    height: int = 220,
    desc: str = "",
) -> SafeString:
    return stacked_bar_chart(
        title=title,
        labels=labels,
        series=[(title, values)],
        fmt=fmt,
        width=width,
        height=height,
        desc=desc,
        legend=False,
    )


def stacked_bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    fmt: Callable = _fmt_default,
    width: int = 640,
    height: int = 240,
    desc: str = "",
    legend: bool = True,
) -> SafeString:
    """Bars per label, one coloured segment per series stacked upwards (values >= 0)."""
    left, pad, bottom = 56, 12, 22 + (18 if legend else 0)
    plot_w, plot_h = width - left - 8, height - pad - bottom
    totals = [sum(_num(s[1][i]) for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    _uid, head = _open(title, desc or f"{title}: {len(labels)} periods", width, height, "stacked")
    parts = [head, _axes(labels, top, left, plot_w, plot_h, pad, fmt)]
    slot = plot_w / max(1, len(labels))
    bar_w = max(1.0, slot * 0.7)
    for i, label in enumerate(labels):
        y = pad + plot_h
        x = left + slot * i + (slot - bar_w) / 2
        for s_idx, (name, values) in enumerate(series):
            value = _num(values[i])
            if value <= 0:
                continue
            h = plot_h * value / top
            y -= h
            tip = (
                f"{label}: {fmt(values[i])}"
                if len(series) == 1
                else f"{label}, {name}: {fmt(values[i])}"
            )
            parts.append(
                f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s_idx % len(PALETTE)]}"><title>{escape(tip)}</title></rect>'
            )
    if legend:
        parts.append(_legend([s[0] for s in series], left, height - 4))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    fmt: Callable = _fmt_default,
    width: int = 640,
    height: int = 240,
    desc: str = "",
) -> SafeString:
    """One line per series with a dot per point (the dot carries the tooltip); None is a gap."""
    left, pad, bottom = 56, 12, 40
    plot_w, plot_h = width - left - 8, height - pad - bottom
    top = _nice_max(max((_num(v) for _n, vs in series for v in vs), default=0))
    _uid, head = _open(title, desc or f"{title}: {len(labels)} periods", width, height, "line")
    parts = [head, _axes(labels, top, left, plot_w, plot_h, pad, fmt)]
    slot = plot_w / max(1, len(labels))
    dashes = (
        "",
        ' stroke-dasharray="6 3"',
        ' stroke-dasharray="2 2"',
        ' stroke-dasharray="8 2 2 2"',
    )
    radius = 3 if len(labels) < 60 else 1.5
    for s_idx, (name, values) in enumerate(series):
        colour = PALETTE[s_idx % len(PALETTE)]
        points, segments = [], [[]]
        for i, value in enumerate(values):
            if value is None:
                segments.append([])
                continue
            x = left + slot * (i + 0.5)
            y = pad + plot_h - plot_h * _num(value) / top
            segments[-1].append(f"{x:.1f},{y:.1f}")
            points.append(
                f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">'
                f"<title>{escape(f'{labels[i]}, {name}: {fmt(value)}')}</title></circle>"
            )
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2"'
                    f'{dashes[s_idx % len(dashes)]} points="{" ".join(seg)}"/>'
                )
        parts.extend(points)
    parts.append(_legend([s[0] for s in series], left, height - 4))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def heat_grid(
    *,
    title: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    cells: Sequence[Sequence[Number]],
    fmt: Callable = _fmt_default,
    desc: str = "",
    cell_w: int = 44,
    cell_h: int = 22,
) -> SafeString:
    """A grid of cells shaded by value in [0, 1] (e.g. retention shares), each with its figure."""
    left, top_pad = 72, 20
    width = left + cell_w * max(1, len(col_labels)) + 4
    height = top_pad + cell_h * max(1, len(row_labels)) + 4
    _uid, head = _open(title, desc or title, width, height, "heat", fluid=False)
    parts = [head]
    for j, label in enumerate(col_labels):
        parts.append(
            f'<text class="tick" x="{left + cell_w * (j + 0.5):.1f}" y="{top_pad - 6}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for i, label in enumerate(row_labels):
        y = top_pad + cell_h * i
        parts.append(
            f'<text class="tick" x="{left - 4}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for j, value in enumerate(cells[i]):
            if value is None:
                continue
            shade = max(0.0, min(1.0, _num(value)))
            x = left + cell_w * j
            ink = "#fff" if shade > 0.5 else "#111"
            tip = f"{label}, {col_labels[j]}: {fmt(value)}"
            parts.append(
                f'<g class="mark"><title>{escape(tip)}</title>'
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{PALETTE[0]}" fill-opacity="{0.08 + 0.92 * shade:.2f}" stroke="#999" '
                f'stroke-width="0.5"/><text class="cell" x="{x + cell_w / 2 - 1:.1f}" '
                f'y="{y + cell_h / 2 + 3:.1f}" text-anchor="middle" fill="{ink}">'
                f"{escape(fmt(value))}</text></g>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def interval_chart(
    *,
    title: str,
    rows: Sequence[tuple[str, Number, Number, Number]],
    fmt: Callable = _fmt_default,
    width: int = 640,
    desc: str = "",
    missing: str = "not enough data",
) -> SafeString:
    """Horizontal bars from zero to each row's value, with the row's interval as a whisker.

    `rows` are (label, value, low, high); a row whose value is None shows `missing`. A bar
    is coloured by what its interval says: above zero, below zero, or zero not ruled out.
    """
    left, right, pad, row_h, bottom = 180, 16, 8, 26, 22
    plot_w = width - left - right
    height = pad + row_h * max(1, len(rows)) + bottom
    reach = _nice_max(
        max((abs(_num(v)) for _l, *vs in rows for v in vs if v is not None), default=0)
    )
    _uid, head = _open(title, desc or f"{title}: {len(rows)} rows", width, height, "interval")
    parts = [head]

    def x_of(value) -> float:
        return left + plot_w * (_num(value) + reach) / (2 * reach)

    zero = x_of(0)
    axis_y = pad + row_h * max(1, len(rows))
    for tick in (-reach, -reach / 2, 0, reach / 2, reach):
        x = x_of(tick)
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{pad}" y2="{axis_y}"/>'
            f'<text class="tick" x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">'
            f"{escape(fmt(tick))}</text>"
        )
    parts.append(f'<line class="axis" x1="{zero:.1f}" x2="{zero:.1f}" y1="{pad}" y2="{axis_y}"/>')
    for i, (label, value, low, high) in enumerate(rows):
        mid = pad + row_h * i + row_h / 2
        name = label if len(label) <= 30 else f"{label[:29]}\u2026"
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{mid + 4:.1f}" text-anchor="end">'
            f"{escape(name)}</text>"
        )
        if value is None:
            parts.append(
                f'<text class="legend" x="{zero + 6:.1f}" y="{mid + 4:.1f}">'
                f"{escape(missing)}</text>"
            )
            continue
        colour = PALETTE[5]
        if low is not None and _num(low) > 0:
            colour = PALETTE[2]
        elif high is not None and _num(high) < 0:
            colour = PALETTE[3]
        x0, x1 = sorted((zero, x_of(value)))
        tip = f"{label}: {fmt(value)}"
        if low is not None and high is not None:
            tip += f" (95% interval {fmt(low)} to {fmt(high)})"
        parts.append(
            f'<g class="mark"><title>{escape(tip)}</title>'
            f'<rect x="{x0:.1f}" y="{mid - 7:.1f}" width="{max(x1 - x0, 1):.1f}" height="14" '
            f'fill="{colour}" fill-opacity="0.75"/>'
        )
        if low is not None and high is not None:
            lo, hi = x_of(low), x_of(high)
            parts.append(
                f'<line class="whisker" x1="{lo:.1f}" x2="{hi:.1f}" y1="{mid:.1f}" '
                f'y2="{mid:.1f}" stroke="#111" stroke-width="1.5"/>'
                + "".join(
                    f'<line class="whisker" x1="{x:.1f}" x2="{x:.1f}" y1="{mid - 5:.1f}" '
                    f'y2="{mid + 5:.1f}" stroke="#111" stroke-width="1.5"/>'
                    for x in (lo, hi)
                )
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def status_strip(history, today: dt.date) -> str:
    """One coloured band per status a customer held, from the first history row to today.

    `history`: rows with `as_of` and `to_status`, oldest first.
    """
    if not history:
        return ""
    start = min(history[0]["as_of"], today)
    span = max(1, (today - start).days + 1)
    width, height = 640, 28
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="crm-chart strip" role="img" '
        f'viewBox="0 0 {width} {height + 16}" width="100%" aria-label="Status history">'
        "<title>Status history</title>"
    ]
    for i, row in enumerate(history):
        end = history[i + 1]["as_of"] if i + 1 < len(history) else today + dt.timedelta(days=1)
        x = width * (row["as_of"] - start).days / span
        w = max(1.0, width * (end - row["as_of"]).days / span)
        label = STATUS_LABELS.get(row["to_status"], row["to_status"])
        tip = f"{label} from {row['as_of']:%d %b %Y}"
        parts.append(
            f'<rect class="mark" x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" '
            f'fill="{status_colour(row["to_status"])}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if w > 40:
            parts.append(
                f'<text x="{x + 3:.1f}" y="{height / 2 + 4}" fill="#fff" font-size="11">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<text x="0" y="{height + 13}" font-size="10">{start:%d %b %Y}</text>'
        f'<text x="{width}" y="{height + 13}" font-size="10" text-anchor="end">'
        f"{today:%d %b %Y}</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # labels escaped
