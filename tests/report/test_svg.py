"""Tests of parity.report.svg: round ticks, the layout of marks, determinism and escaping."""

from __future__ import annotations

import re

import pytest

from parity.report.svg import Canvas, nice_ticks, tick_label


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
