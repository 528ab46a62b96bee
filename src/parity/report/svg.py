"""Small plots written as SVG by hand: panels with linear axes, round ticks and a few marks.

A :class:`Canvas` (its size in inches, drawn in points: 72 to the inch) holds one or more
:class:`Panel` side by side, or in a grid of ``cols`` columns; a panel collects marks in data
coordinates (:meth:`Panel.stairs`, :meth:`Panel.line`, :meth:`Panel.rect`, :meth:`Panel.text`,
:meth:`Panel.legend`, :meth:`Panel.image`, …), takes its limits from them (or from
:meth:`Panel.limits`), and is laid out when the canvas is written: room for the tick labels is
measured from their text (an estimate of DejaVu Sans' widths), so no layout engine is needed.
A heatmap is one embedded PNG (a pixel per cell, a viridis-like palette, drawn pixelated)
written with zlib, so a matrix of N² cells costs bytes, not N² elements; a
:meth:`Canvas.colour_bar` gives its scale. Same marks, same bytes: coordinates are cut to 2
decimals and nothing else varies. It draws in milliseconds and imports nothing beyond the
standard library.

Examples
--------
>>> canvas = Canvas(3, 1.5)
>>> ax = canvas.panel()
>>> ax.line([0, 1], [0, 1], colour="#0969da")
>>> ax.title("a line")
>>> text = canvas.svg()
>>> text.startswith("<svg") and "a line" in text and text == canvas.svg()
True
"""

from __future__ import annotations

import base64
import itertools
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from parity.report.escape import html_text

__all__ = ["VIRIDIS", "Canvas", "Panel", "nice_ticks", "png", "tick_label"]

FONT = "DejaVu Sans, Verdana, sans-serif"
MUTED = "#59636e"
FONT_SIZE = 8.5
TICK_SIZE = 8.0
TITLE_SIZE = 9.5
TICK_LENGTH = 3.5
#: Average advance of a DejaVu Sans character, in font sizes (digits are 0.636).
CHAR_WIDTH = 0.6
DASHES = {"solid": "", "dashed": "3.7 1.6", "dotted": "1 1.65"}
#: The viridis colour map at 17 evenly spaced points (linear between them: within 6/255 of it).
VIRIDIS = (
    "#440154", "#48186a", "#472d7b", "#424086", "#3b528b", "#33638d", "#2c728e", "#26828e",
    "#21918c", "#1fa088", "#28ae80", "#3fbc73", "#5ec962", "#84d44b", "#addc30", "#d8e219",
    "#fde725",
)  # fmt: skip
#: Levels of a heatmap's palette; index ``LEVELS`` (the last entry) is white, for NaN.
LEVELS = 255
#: Points right of the panels taken by a colour bar, its ticks and its label.
BAR_ROOM = 56.0
BAR_WIDTH = 10.0


def _num(value: float) -> str:
    """A coordinate with at most 2 decimals, no trailing zeros, no ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def text_width(text: str, size: float) -> float:
    """The estimated width of ``text`` at font ``size`` (points)."""
    return CHAR_WIDTH * size * len(text)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def palette(anchors: Sequence[str] = VIRIDIS, levels: int = LEVELS) -> list[tuple[int, int, int]]:
    """``levels`` colours from the first anchor to the last, linear between anchors, then white.

    Examples
    --------
    >>> colours = palette()
    >>> len(colours), colours[0], colours[LEVELS - 1], colours[LEVELS]
    (256, (68, 1, 84), (253, 231, 37), (255, 255, 255))
    """
    rgb = [_rgb(c) for c in anchors]
    out = []
    for k in range(levels):
        t = k / (levels - 1) * (len(rgb) - 1)
        i = min(int(t), len(rgb) - 2)
        f = t - i
        out.append(tuple(round(a + (b - a) * f) for a, b in zip(rgb[i], rgb[i + 1], strict=True)))
    return [*out, (255, 255, 255)]


def png(rows: Sequence[Sequence[int]], colours: Sequence[tuple[int, int, int]]) -> bytes:
    """An 8-bit indexed PNG: ``rows`` of palette indices (top row first) into ``colours``.

    No metadata and a fixed compression level: the same pixels give the same bytes.

    Examples
    --------
    >>> data = png([[0, 1], [1, 0]], [(0, 0, 0), (255, 255, 255)])
    >>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", struct.unpack(">II", data[16:24])
    (True, (2, 2))
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    height, width = len(rows), len(rows[0]) if rows else 0
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    table = b"".join(bytes(c) for c in colours)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", table)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _levels(values: Sequence[float], low: float, high: float) -> list[int]:
    """Palette indices of ``values`` on ``[low, high]`` (clipped); NaN is white."""
    span = (high - low) or 1.0
    return [
        min(max(round((v - low) / span * (LEVELS - 1)), 0), LEVELS - 1) if v == v else LEVELS
        for v in values
    ]


def _image(data: bytes, left: float, top: float, width: float, height: float) -> str:
    """An embedded PNG stretched over a box, its pixels drawn as blocks (no smoothing)."""
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return (
        f'<image x="{_num(left)}" y="{_num(top)}" width="{_num(width)}" height="{_num(height)}" '
        f'preserveAspectRatio="none" image-rendering="optimizeSpeed" '
        f'style="image-rendering:pixelated" href="{uri}"/>'
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) inside ``[low, high]``, about ``count``.

    Examples
    --------
    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> nice_ticks(-3.2, 47)
    [0.0, 20.0, 40.0]
    >>> nice_ticks(-3.2, 47, count=8)
    [0.0, 10.0, 20.0, 30.0, 40.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(count, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [round(k * step, 12) + 0.0 for k in range(first, last + 1)]


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """``value`` with as many decimals as the tick step needs (``0.25`` → 2).

    Examples
    --------
    >>> [tick_label(v, [0, 0.25, 0.5]) for v in (0, 0.25, 0.5)]
    ['0', '0.25', '0.5']
    """
    step = min((b - a for a, b in itertools.pairwise(ticks)), default=1.0) or 1.0
    decimals = 0
    while decimals < 6 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1
    magnitude = max((abs(t) for t in ticks), default=0.0)
    if magnitude >= 1e5 or (0 < magnitude < 1e-3):
        return f"{value:.2g}"
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


@dataclass
class _Box:
    """A panel's plotting area in canvas points and its data limits."""

    left: float
    top: float
    width: float
    height: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def x(self, value: float) -> float:
        lo, hi = self.xlim
        return self.left + (value - lo) / ((hi - lo) or 1.0) * self.width

    def y(self, value: float) -> float:
        lo, hi = self.ylim
        return self.top + self.height - (value - lo) / ((hi - lo) or 1.0) * self.height


@dataclass
class Panel:
    """One set of axes: marks in data coordinates, limits, ticks, titles and axis labels.

    Limits default to the marks' extent, widened by ``margin`` (a share of the span) on the
    x axis and from 0 (bars) or with the same margin on the y axis; :meth:`limits` fixes them
    (``high < low`` runs the axis backwards). ``xticks``/``yticks``: ``(value, label)`` pairs
    drawn instead of round ticks (categories); ``integer``: round ticks at whole numbers only;
    ``aspect``: the plotting area's height over its width (the box shrinks to it).
    """

    marks: list[tuple] = field(default_factory=list)
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    margin: float = 0.04
    titles: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    xlabel: str = ""
    ylabel: str = ""
    xticks: list[tuple[float, str]] | None = None
    yticks: list[tuple[float, str]] | None = None
    right_labels: list[tuple[float, str]] = field(default_factory=list)
    ytick_values: list[float] | None = None
    show_yticks: bool = True
    integer: bool = False
    aspect: float | None = None
    _xs: list[float] = field(default_factory=list)
    _ys: list[float] = field(default_factory=list)

    def _extent(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        self._xs += [float(v) for v in xs if math.isfinite(float(v))]
        self._ys += [float(v) for v in ys if math.isfinite(float(v))]

    def stairs(
        self, counts, edges, colour: str, fill: float | None = None, width: float = 0.8
    ) -> None:
        """A histogram's outline on ``edges``; ``fill`` is the opacity of its area (None: none)."""
        counts, edges = [float(c) for c in counts], [float(e) for e in edges]
        self.marks.append(("stairs", counts, edges, colour, fill, width))
        self._extent(edges, [0.0, *counts])

    def line(
        self,
        xs,
        ys,
        colour: str,
        width: float = 1.0,
        style: str = "solid",
        marker: float = 0.0,
        opacity: float = 1.0,
    ) -> None:
        """A polyline through the points (a segment for two); ``marker``: dot radius."""
        xs, ys = [float(v) for v in xs], [float(v) for v in ys]
        self.marks.append(("line", xs, ys, colour, width, style, marker, opacity))
        self._extent(xs, ys)

    def vline(self, x: float, colour: str, width: float = 1.0, style: str = "solid") -> None:
        """A vertical line across the panel at ``x``."""
        self.marks.append(("vline", float(x), colour, width, style))
        self._extent([x], [])

    def hline(self, y: float, colour: str, width: float = 1.0, style: str = "solid") -> None:
        """A horizontal line across the panel at ``y``."""
        self.marks.append(("hline", float(y), colour, width, style))
        self._extent([], [y])

    def rect(self, x0: float, x1: float, y0: float, y1: float, colour: str, opacity: float) -> None:
        """A filled rectangle (data coordinates); ``x0`` may be ``-inf``: from the left edge."""
        self.marks.append(("rect", float(x0), float(x1), float(y0), float(y1), colour, opacity))
        self._extent([x0, x1], [y0, y1])

    def text(
        self,
        x: float,
        y: float,
        text: str,
        colour: str,
        anchor: str = "start",
        dx: float = 0.0,
        dy: float = 0.0,
        relative: str = "",
        arrow: float | None = None,
    ) -> None:
        """A label at a data point moved by ``(dx, dy)`` points (down for ``dy > 0``), over a
        white box; lines split on ``\\n``. ``relative`` names the coordinates (``"x"``, ``"y"``,
        ``"xy"``) given as a share of the panel's width or height instead of data. With
        ``arrow`` (a share of the width), an arrow from the label's side points there."""
        self.marks.append(("text", x, y, text, colour, anchor, dx, dy, relative, arrow))

    def legend(self, items: dict[str, str], line: bool = False) -> None:
        """A key in the upper right corner, label → colour: a square swatch each (a short
        line with ``line``), over a white box."""
        self.marks.append(("legend", dict(items), line))

    def image(self, matrix: Sequence[Sequence[float]], low: float = 0.0, high: float = 1.0):
        """A heatmap of ``matrix`` (row 0 at the top, like a matrix is read), a square of
        :data:`VIRIDIS` per cell from ``low`` to ``high`` (clipped; NaN white), as one PNG;
        the limits and aspect are set to the cells, with ticks at whole numbers."""
        rows = [[float(v) for v in row] for row in getattr(matrix, "tolist", lambda: matrix)()]
        n_rows, n_cols = len(rows), len(rows[0]) if rows else 0
        data = png([_levels(row, low, high) for row in rows], palette()) if n_cols else b""
        self.marks.append(("image", data))
        self.limits(x=(-0.5, n_cols - 0.5), y=(n_rows - 0.5, -0.5))
        self.integer, self.aspect = True, n_rows / max(n_cols, 1)

    def title(self, text: str, side: str = "left", colour: str = "#1f2328", bold=False) -> None:
        """The panel's title on the ``left`` or ``right`` above it; lines split on ``\\n``."""
        self.titles[side] = (text, colour, bold)

    def limits(self, x: tuple[float, float] | None = None, y: tuple[float, float] | None = None):
        """Fix the x and/or y limits."""
        if x is not None:
            self.xlim = (float(x[0]), float(x[1]))
        if y is not None:
            self.ylim = (float(y[0]), float(y[1]))

    def resolved_limits(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The limits the panel is drawn with."""

        def widen(values: list[float], margin: float) -> tuple[float, float]:
            lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
            pad = (hi - lo) * margin if hi > lo else (abs(lo) * 0.05 or 0.5)
            return lo - pad, hi + pad

        xlim = self.xlim or widen(self._xs, self.margin)
        ylim = self.ylim or widen(self._ys, self.margin)
        return xlim, ylim

    def y_tick_items(self, ylim: tuple[float, float]) -> list[tuple[float, str]]:
        """The y ticks (value, label) drawn."""
        if self.yticks is not None:
            return self.yticks
        values = self.ytick_values or _whole(nice_ticks(*sorted(ylim)), self.integer)
        return [(v, tick_label(v, values)) for v in values]

    def left_room(self, ylim: tuple[float, float]) -> float:
        """Points left of the plotting area: tick labels, ticks and the y label."""
        if not self.show_yticks:
            return 6.0
        widest = max((text_width(t, TICK_SIZE) for _, t in self.y_tick_items(ylim)), default=0)
        return widest + TICK_LENGTH + 4 + (FONT_SIZE + 5 if self.ylabel else 0) + 2

    def right_room(self) -> float:
        """Points right of the plotting area: the right-hand labels, if any."""
        widest = max((text_width(t, TICK_SIZE) for _, t in self.right_labels), default=0)
        return widest + 8 if widest else 10.0

    def render(self, box: _Box) -> list[str]:
        """The panel's SVG elements inside ``box``."""
        out = [_mark(m, box) for m in self.marks]
        out += _axes(self, box)
        return out


def _whole(ticks: list[float], integer: bool) -> list[float]:
    """The ticks at whole numbers, with ``integer`` (all of them otherwise)."""
    return [t for t in ticks if t == round(t)] if integer else ticks


def _stroke(colour: str, width: float, style: str = "solid", opacity: float = 1.0) -> str:
    dash = DASHES.get(style, "")
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    alpha = f' stroke-opacity="{_num(opacity)}"' if opacity != 1 else ""
    return f'fill="none" stroke="{colour}" stroke-width="{_num(width)}"{dashes}{alpha}'


def _segment(x1: float, y1: float, x2: float, y2: float, colour: str, width: float, style="solid"):
    ends = f'x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"'
    return f"<line {ends} {_stroke(colour, width, style)}/>"


def _points(xs: Sequence[float], ys: Sequence[float]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in zip(xs, ys, strict=True))


def _text(x: float, y: float, text: str, size: float, colour: str, anchor: str, extra="") -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" fill="{colour}" '
        f'text-anchor="{anchor}"{extra}>{html_text(text)}</text>'
    )


def _mark(mark: tuple, box: _Box) -> str:
    """One mark's SVG element."""
    kind = mark[0]
    if kind == "stairs":
        _, counts, edges, colour, fill, width = mark
        xs = [box.x(e) for e in edges]
        ys = [box.y(c) for c in counts]
        top = [(xs[0], box.y(0.0))]
        for i, y in enumerate(ys):
            top += [(xs[i], y), (xs[i + 1], y)]
        top.append((xs[-1], box.y(0.0)))
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in top)
        area = (
            f'<polygon points="{path}" fill="{colour}" fill-opacity="{_num(fill)}"/>'
            if fill is not None
            else ""
        )
        return area + f'<polyline points="{path}" {_stroke(colour, width)}/>'
    if kind == "line":
        _, xs, ys, colour, width, style, marker, opacity = mark
        # a point that is not finite (NaN, ±inf) is left out and breaks the line there
        runs: list[list[tuple[float, float]]] = [[]]
        for x, y in zip(xs, ys, strict=True):
            if math.isfinite(x) and math.isfinite(y):
                runs[-1].append((box.x(x), box.y(y)))
            elif runs[-1]:
                runs.append([])
        stroke = _stroke(colour, width, style, opacity)
        lines = "".join(
            f'<polyline points="{_points(*zip(*run, strict=True))}" {stroke}/>'
            for run in runs
            if len(run) > 1 and width
        )
        dots = "".join(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(marker)}" fill="{colour}"/>'
            for run in runs
            for x, y in run
            if marker
        )
        return lines + dots
    if kind in ("vline", "hline"):
        _, at, colour, width, style = mark
        if kind == "vline":
            x = box.x(at)
            return _segment(x, box.top, x, box.top + box.height, colour, width, style)
        y = box.y(at)
        return _segment(box.left, y, box.left + box.width, y, colour, width, style)
    if kind == "rect":
        _, x0, x1, y0, y1, colour, opacity = mark
        left = box.left if not math.isfinite(x0) else box.x(x0)
        right, top, bottom = box.x(x1), box.y(max(y0, y1)), box.y(min(y0, y1))
        return (
            f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(right - left)}" '
            f'height="{_num(bottom - top)}" fill="{colour}" fill-opacity="{_num(opacity)}"/>'
        )
    if kind == "image":
        return _image(mark[1], box.left, box.top, box.width, box.height) if mark[1] else ""
    if kind == "legend":
        return _legend(mark[1], mark[2], box)
    return _label(mark, box)


def _legend(items: dict[str, str], line: bool, box: _Box) -> str:
    """The key of :meth:`Panel.legend` in the box's upper right corner."""
    swatch, step = 12.0 if line else 7.0, FONT_SIZE * 1.35
    width = swatch + 4 + max((text_width(t, FONT_SIZE) for t in items), default=0)
    right, top = box.left + box.width - 4, box.top + 4
    left = right - width
    out = [
        f'<rect x="{_num(left - 3)}" y="{_num(top - 2)}" width="{_num(width + 6)}" '
        f'height="{_num(step * len(items) + 3)}" fill="#ffffff" fill-opacity="0.85"/>'
    ]
    for i, (label, colour) in enumerate(items.items()):
        mid = top + step * (i + 0.5)
        if line:
            out.append(_segment(left, mid, left + swatch, mid, colour, 2.0))
        else:
            out.append(
                f'<rect x="{_num(left)}" y="{_num(mid - swatch / 2)}" width="{_num(swatch)}" '
                f'height="{_num(swatch)}" fill="{colour}"/>'
            )
        out.append(_text(left + swatch + 4, mid + FONT_SIZE * 0.35, label, FONT_SIZE, MUTED,
                         "start"))  # fmt: skip
    return "".join(out)


def _label(mark: tuple, box: _Box) -> str:
    """A text mark: a white box behind its lines, and its arrow."""
    _, x, y, text, colour, anchor, dx, dy, relative, arrow = mark
    px = box.left + x * box.width if "x" in relative else box.x(x)
    py = box.top + (1 - y) * box.height if "y" in relative else box.y(y)
    px, py = px + dx, py + dy
    lines = text.split("\n")
    height = 1.2 * FONT_SIZE * len(lines)
    width = max(text_width(t, FONT_SIZE) for t in lines)
    left = {"start": px, "middle": px - width / 2, "end": px - width}[anchor]
    out = [
        f'<rect x="{_num(left - 1.5)}" y="{_num(py - 1)}" width="{_num(width + 3)}" '
        f'height="{_num(height + 2)}" fill="#ffffff" fill-opacity="0.85"/>'
    ]
    for i, line in enumerate(lines):
        baseline = py + FONT_SIZE * (1.2 * i + 0.95)
        out.append(_text(px, baseline, line, FONT_SIZE, colour, anchor))
    if arrow is not None:
        tip = box.left + arrow * box.width
        start = left + width + 2 if tip > px else left - 2
        mid = py + height / 2
        head = 5.0 if tip > start else -5.0
        out.append(_segment(start, mid, tip - head, mid, colour, 1.6))
        head_points = _points([tip, tip - head, tip - head], [mid, mid - 3, mid + 3])
        out.append(f'<polygon points="{head_points}" fill="{colour}"/>')
    return "".join(out)


def _x_ticks(box: _Box, integer: bool = False) -> list[float]:
    """The most round x ticks (one per 30 points at most) whose labels do not touch, two at
    least where a narrow panel allows (then up to one per 15 points)."""
    most = int(box.width // 30)
    for count in [*range(max(2, most), 1, -1), *range(max(2, most) + 1, int(box.width // 15))]:
        ticks = _whole(nice_ticks(*box.xlim, count=count), integer)
        widest = max((text_width(tick_label(v, ticks), TICK_SIZE) for v in ticks), default=0)
        if len(ticks) >= 2 and box.x(ticks[1]) - box.x(ticks[0]) >= widest + 6:
            return ticks
    return _whole(nice_ticks(*box.xlim, count=2), integer)


def _axes(panel: Panel, box: _Box) -> list[str]:
    """Spines (left, bottom), ticks, tick labels, titles and axis labels."""
    bottom, right = box.top + box.height, box.left + box.width
    out = [
        f'<polyline points="{_points([box.left, box.left, right], [box.top, bottom, bottom])}" '
        f"{_stroke(MUTED, 0.8)}/>"
    ]
    if panel.xticks is not None:
        xticks = panel.xticks
    else:
        values = _x_ticks(box, panel.integer)
        xticks = [(v, tick_label(v, values)) for v in values]
    for v, label in xticks:
        x = box.x(v)
        out.append(_segment(x, bottom, x, bottom + TICK_LENGTH, MUTED, 0.8))
        out.append(
            _text(x, bottom + TICK_LENGTH + TICK_SIZE + 1, label, TICK_SIZE, MUTED, "middle")
        )
    for v, label in panel.y_tick_items(box.ylim):
        y = box.y(v)
        out.append(_segment(box.left - TICK_LENGTH, y, box.left, y, MUTED, 0.8))
        if panel.show_yticks:
            out.append(
                _text(box.left - TICK_LENGTH - 2, y + TICK_SIZE * 0.35, label, TICK_SIZE, MUTED,
                      "end")
            )  # fmt: skip
    if panel.xlabel:
        baseline = bottom + TICK_LENGTH + 2 * TICK_SIZE + 5
        out.append(_text(box.left + box.width / 2, baseline, panel.xlabel, FONT_SIZE, "#1f2328",
                         "middle"))  # fmt: skip
    if panel.ylabel:
        x, y = box.left - panel.left_room(box.ylim) + FONT_SIZE + 1, box.top + box.height / 2
        out.append(
            _text(x, y, panel.ylabel, FONT_SIZE, "#1f2328", "middle",
                  f' transform="rotate(-90 {_num(x)} {_num(y)})"')
        )  # fmt: skip
    for v, label in panel.right_labels:
        out.append(_text(right + 4, box.y(v) + TICK_SIZE * 0.35, label, TICK_SIZE, MUTED, "start"))
    for side, (text, colour, bold) in sorted(panel.titles.items()):
        x, anchor = (box.left, "start") if side == "left" else (right, "end")
        weight = ' font-weight="bold"' if bold else ""
        lines = text.split("\n")
        for i, line in enumerate(lines):
            baseline = box.top - 5 - (len(lines) - 1 - i) * TITLE_SIZE * 1.2
            out.append(_text(x, baseline, line, TITLE_SIZE, colour, anchor, weight))
    return out


def _colour_bar(label: str, low: float, high: float, left: float, top: float, height: float):
    """A vertical bar of the heatmap palette from ``low`` (bottom) to ``high``, its ticks on
    the right and ``label`` along it."""
    ticks = nice_ticks(low, high)
    colours = palette()
    data = png([[k] for k in range(LEVELS - 1, -1, -1)], colours)
    box = _Box(left, top, BAR_WIDTH, height, (0.0, 1.0), (low, high))
    right = left + BAR_WIDTH
    out = [
        _image(data, left, top, BAR_WIDTH, height),
        f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(BAR_WIDTH)}" '
        f'height="{_num(height)}" {_stroke(MUTED, 0.8)}/>',
    ]
    for v in ticks:
        y = box.y(v)
        out.append(_segment(right, y, right + TICK_LENGTH, y, MUTED, 0.8))
        out.append(_text(right + TICK_LENGTH + 2, y + TICK_SIZE * 0.35, tick_label(v, ticks),
                         TICK_SIZE, MUTED, "start"))  # fmt: skip
    widest = max((text_width(tick_label(v, ticks), TICK_SIZE) for v in ticks), default=0)
    x, y = right + TICK_LENGTH + 4 + widest + FONT_SIZE, top + height / 2
    out.append(
        _text(x, y, label, FONT_SIZE, "#1f2328", "middle",
              f' transform="rotate(-90 {_num(x)} {_num(y)})"')
    )  # fmt: skip
    return out


class Canvas:
    """A figure of ``width × height`` inches holding panels side by side (equal widths), or
    in rows of ``cols`` (equal cells, filled row by row; cells past the last panel stay blank).

    ``sharey``: one set of y limits for all panels, tick labels on the first column only.
    """

    def __init__(self, width: float, height: float, sharey: bool = False, cols: int = 0) -> None:
        self.width, self.height = 72.0 * width, 72.0 * height
        self.sharey = sharey
        self.cols = cols
        self.panels: list[Panel] = []
        self.bar: tuple[str, float, float] | None = None

    def panel(self) -> Panel:
        """A new panel, right of the others (below them once a row holds ``cols``)."""
        panel = Panel()
        self.panels.append(panel)
        return panel

    def colour_bar(self, label: str, low: float = 0.0, high: float = 1.0) -> None:
        """The scale of :meth:`Panel.image` right of the panels, as tall as the first one."""
        self.bar = (label, float(low), float(high))

    def svg(self) -> str:
        """The canvas as an inline ``<svg>`` element (no ids, scripts or external references)."""
        limits = [p.resolved_limits() for p in self.panels]
        cols = self.cols or max(len(self.panels), 1)
        if self.sharey and limits:
            low = min(y[0] for _, y in limits)
            high = max(y[1] for _, y in limits)
            limits = [(x, (low, high)) for x, _ in limits]
            for i, p in enumerate(self.panels):
                p.show_yticks = i % cols == 0
        lines = max(
            (len(t[0].split("\n")) for p in self.panels for t in p.titles.values()), default=0
        )
        top = 7.0 + (TITLE_SIZE + 6 + (lines - 1) * TITLE_SIZE * 1.2 if lines else 0)
        has_xlabel = any(p.xlabel for p in self.panels)
        bottom = TICK_LENGTH + TICK_SIZE + 6 + (FONT_SIZE + 5 if has_xlabel else 0)
        share = (self.width - (BAR_ROOM if self.bar else 0)) / cols
        cell = self.height / max(math.ceil(len(self.panels) / cols), 1)
        body, first = [], None
        for i, (panel, (xlim, ylim)) in enumerate(zip(self.panels, limits, strict=True)):
            row, col = divmod(i, cols)
            left = col * share + panel.left_room(ylim)
            width = share * (col + 1) - left - panel.right_room()
            height = cell - top - bottom
            if panel.aspect:
                fitted = min(width, height / panel.aspect)
                left, width, height = left + (width - fitted) / 2, fitted, fitted * panel.aspect
            box = _Box(left, row * cell + top, width, height, xlim, ylim)
            first = first or box
            body += panel.render(box)
        if self.bar and first:
            body += _colour_bar(*self.bar, share * cols + 8, first.top, first.height)
        w, h = _num(self.width), _num(self.height)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
            f'viewBox="0 0 {w} {h}" font-family="{FONT}">'
            f'<rect width="{w}" height="{h}" fill="#ffffff"/>{"".join(body)}</svg>'
        )
