"""Tests of parity.report.svg: round ticks, the layout of marks and grids, the heatmap PNG,
determinism and escaping."""

from __future__ import annotations

import base64
import re
import struct
import zlib

import pytest

from parity.report.svg import LEVELS, VIRIDIS, Canvas, nice_ticks, png, tick_label


@pytest.mark.parametrize(
    ("low", "high", "count", "expected"),
    [
        (0, 1, 5, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.15, 0.37, 4, [0.2, 0.3]),
        (1.18, 1.27, 4, [1.2, 1.225, 1.25]),
        (-0.05, 0.12, 4, [-0.05, 0.0, 0.05, 0.1]),
        (3.0, 3.0, 5, [3.0]),
    ],
)
def test_nice_ticks(low, high, count, expected):
    assert nice_ticks(low, high, count) == expected


def test_tick_labels_have_the_decimals_of_the_step():
    ticks = [1.2, 1.225, 1.25]
    assert [tick_label(v, ticks) for v in ticks] == ["1.2", "1.225", "1.25"]
    assert tick_label(-0.05, [-0.05, 0.0]) == "−0.05"
    assert tick_label(0.0, [-0.05, 0.0]) == "0"


def _coordinates(svg: str) -> list[float]:
    return [float(v) for v in re.findall(r'(?:x|y|x1|x2|y1|y2|cx|cy)="(-?[\d.]+)"', svg)]


def test_marks_land_on_their_data_coordinates():
    canvas = Canvas(4, 2)
    ax = canvas.panel()
    ax.limits(x=(0, 10), y=(0, 1))
    ax.vline(5, "#000000")
    ax.hline(0.5, "#000000")
    svg = canvas.svg()
    vline = re.search(r'<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"', svg)
    x, top, _, bottom = (float(v) for v in vline.groups())
    hline = re.findall(r'<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"', svg)[1]
    left, y, right, _ = (float(v) for v in hline)
    assert x == pytest.approx((left + right) / 2, abs=0.01)
    assert y == pytest.approx((top + bottom) / 2, abs=0.01)
    assert 0 < left < x < right <= 4 * 72 and 0 < top < y < bottom <= 2 * 72


def test_the_same_marks_give_the_same_bytes_with_short_coordinates():
    def draw() -> str:
        canvas = Canvas(3.1, 1.9)
        ax = canvas.panel()
        ax.stairs([1, 3, 2], [0.1, 0.2, 0.3, 0.4], "#0969da", fill=0.4)
        ax.text(0.5, 0.5, "observed 1/3\n(off the scale)", "#cf222e", relative="xy", arrow=0.99)
        ax.title("MMD²")
        ax.title("p = 0.001", side="right", colour="#cf222e", bold=True)
        ax.xlabel, ax.ylabel = "statistic", "splits"
        return canvas.svg()

    svg = draw()
    assert svg == draw()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="223.2pt"')
    assert " id=" not in svg and "<script" not in svg and "href" not in svg
    assert not re.search(r"\d\.\d{3,}", re.sub(r">[^<]*<", "><", svg))  # outside the text
    assert all(0 <= v <= 223.2 for v in _coordinates(svg))
    assert ">MMD²</text>" in svg and 'font-weight="bold"' in svg and "rotate(-90" in svg


def test_text_is_escaped():
    canvas = Canvas(3, 2)
    ax = canvas.panel()
    ax.line([0, 1], [0, 1], "#000000")
    ax.title('<script>alert("x")</script>')
    ax.yticks = [(0.5, "a & b")]
    svg = canvas.svg()
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg


def test_shared_y_axis_labels_the_first_panel_only():
    canvas = Canvas(5, 2, sharey=True)
    for top in (1.0, 3.0):
        ax = canvas.panel()
        ax.line([0, 1], [0, top], "#000000")
    canvas.panels[0].ylabel = "power"
    svg = canvas.svg()
    assert svg.count(">power</text>") == 1
    assert all(p.resolved_limits()[1] for p in canvas.panels)
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert labels and len(labels) == len(set(labels))  # the y tick labels appear once


def _boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """Each panel's plotting area (left, top, right, bottom), from its spine polyline."""
    out = []
    for points in re.findall(r'<polyline points="([^"]+)" fill="none" stroke="#59636e"', svg):
        (x0, y0), (_, y1), (x2, _) = (tuple(map(float, p.split(","))) for p in points.split())
        out.append((x0, y0, x2, y1))
    return out


def test_a_grid_fills_rows_of_equal_cells_and_leaves_the_rest_blank():
    canvas = Canvas(6, 3, cols=3)
    for k in range(4):
        ax = canvas.panel()
        ax.line([0, 1], [0, 1], "#000000")
        ax.title(f"panel {k}")
    svg = canvas.svg()
    boxes = _boxes(svg)
    assert len(boxes) == 4 and svg.count(">panel ") == 4
    (l0, t0, r0, b0), (l1, t1, _, _), (l2, _, r2, _), (l3, t3, r3, b3) = boxes
    assert t0 == t1 and t3 > b0 and l3 == pytest.approx(l0) and r3 == pytest.approx(r0)
    assert l0 < r0 < l1 < l2 < r2 <= 6 * 72 and b3 <= 3 * 72
    # the row below is the row above moved down by half the height
    assert t3 - t0 == pytest.approx(3 * 72 / 2) and b3 - b0 == pytest.approx(3 * 72 / 2)


def test_categorical_ticks_and_a_legend():
    canvas = Canvas(5, 2)
    ax = canvas.panel()
    for x, value in enumerate((0.6, 0.2, 0.4)):
        ax.rect(x - 0.3, x + 0.3, 0, value, "#0969da", 1.0)
        ax.line([x, x], [value - 0.1, value + 0.1], "#1f2328", 1.5)
    ax.xticks = [(0, "success rate"), (1, "loop rate"), (2, "stall <rate>")]
    ax.limits(x=(-0.5, 2.5), y=(0, 1))
    ax.legend({"benchmark": "#0969da", "target usage": "#e16f24"})
    svg = canvas.svg()
    middles = re.findall(r'<text x="([\d.]+)" y="[\d.]+" font-size="8" fill="#59636e" '
                         r'text-anchor="middle">([^<]+)</text>', svg)  # fmt: skip
    assert [label for _, label in middles] == ["success rate", "loop rate", "stall &lt;rate&gt;"]
    xs = [float(x) for x, _ in middles]
    left, _, right, _ = _boxes(svg)[0]
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.02)
    assert xs[0] - left == pytest.approx(right - xs[2], abs=0.02)  # centred in their slots
    assert ">benchmark</text>" in svg and ">target usage</text>" in svg
    assert 'fill="#e16f24"/>' in svg  # the swatch


def test_integer_ticks_skip_fractions():
    canvas = Canvas(3, 2)
    ax = canvas.panel()
    ax.line([0, 1, 2], [0, 1, 2], "#000000")
    ax.limits(x=(-0.5, 2.5), y=(-0.5, 2.5))
    ax.integer = True
    labels = re.findall(r">([^<]+)</text>", canvas.svg())
    assert labels and all(label.lstrip("−").isdigit() for label in labels)


def _png(data: bytes) -> tuple[int, int, list[bytes], list[bytes]]:
    """Width, height, palette entries and rows of palette indices of an indexed PNG, checking
    its signature, chunk CRCs and header."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        at += 12 + length
    assert list(chunks) == [b"IHDR", b"PLTE", b"IDAT", b"IEND"]
    width, height, depth, colour_type, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour_type) == (8, 3)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (width + 1)
    rows = [raw[r * (width + 1) : (r + 1) * (width + 1)] for r in range(height)]
    assert all(row[0] == 0 for row in rows)  # no filter
    table = chunks[b"PLTE"]
    return width, height, [table[i : i + 3] for i in range(0, len(table), 3)], [r[1:] for r in rows]


def _heatmap(matrix) -> str:
    canvas = Canvas(3, 3)
    ax = canvas.panel()
    ax.image(matrix, 0.0, 1.0)
    ax.vline(1.5, "#cf222e")
    ax.title("run-1\nloop p = 2 from step 2")
    canvas.colour_bar("cosine similarity")
    return canvas.svg()


def test_a_heatmap_is_one_png_of_a_pixel_per_cell_and_the_same_bytes_each_time():
    matrix = [[1.0, 0.5, 0.0], [0.5, 1.0, float("nan")], [0.0, 0.25, 1.0], [2.0, -1.0, 0.75]]
    svg = _heatmap(matrix)
    assert svg == _heatmap(matrix)
    uris = re.findall(r'href="data:image/png;base64,([^"]+)"', svg)
    assert len(uris) == 2 and "image-rendering:pixelated" in svg  # the cells and the bar
    width, height, colours, rows = _png(base64.b64decode(uris[0]))
    assert (width, height) == (3, 4) and len(colours) == LEVELS + 1
    top, one = rows[0], LEVELS - 1
    assert list(top) == [one, round(0.5 * one), 0]  # row 0 first, from 0 to 1
    assert rows[1][2] == LEVELS and colours[LEVELS] == b"\xff\xff\xff"  # NaN is white
    assert list(rows[3][:2]) == [one, 0]  # clipped to [low, high]
    assert colours[0] == bytes.fromhex(VIRIDIS[0][1:])
    assert colours[one] == bytes.fromhex(VIRIDIS[-1][1:])
    bar_width, bar_height, _, bar = _png(base64.b64decode(uris[1]))
    assert (bar_width, bar_height) == (1, LEVELS) and bar[0][0] == one and bar[-1][0] == 0
    # the image covers the plotting area: 3 columns by 4 rows of square cells
    image = re.search(r'<image x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', svg)
    x, y, w, h = (float(v) for v in image.groups())
    assert h / w == pytest.approx(4 / 3, abs=0.01)
    left, top_y, right, bottom = _boxes(svg)[0]
    assert (x, y, x + w, y + h) == pytest.approx((left, top_y, right, bottom), abs=0.02)
    # two title lines above the area, the bar's label on the right of the panels
    assert ">run-1</text>" in svg and ">loop p = 2 from step 2</text>" in svg
    assert ">cosine similarity</text>" in svg
    assert all(0 <= v <= 3 * 72 for v in _coordinates(svg))


def test_a_large_heatmap_stays_compact():
    n = 300
    matrix = [[1.0 if (i - j) % 3 == 0 else 0.1 for j in range(n)] for i in range(n)]
    svg = _heatmap(matrix)
    assert svg.count("<rect") < 10 and len(svg) < 60_000


def test_png_is_a_valid_indexed_image():
    data = png([[0, 1, 2], [2, 1, 0]], [(0, 0, 0), (128, 128, 128), (255, 255, 255)])
    width, height, colours, rows = _png(data)
    assert (width, height) == (3, 2) and colours[1] == b"\x80\x80\x80"
    assert rows == [b"\x00\x01\x02", b"\x02\x01\x00"]


def test_a_line_breaks_at_points_that_are_not_finite():
    canvas = Canvas(3, 2)
    ax = canvas.panel()
    ax.line([0, 1, 2, 3, 4], [0.0, 1.0, float("nan"), 2.0, float("-inf")], "#000000", marker=1)
    svg = canvas.svg()
    assert "nan" not in svg and "inf" not in svg
    assert svg.count("<polyline") == 1 + 1  # the finite run of two points, and the spines
    assert svg.count("<circle") == 3
