"""Self-contained, offline HTML pages: inline CSS and inline SVG figures, no scripts or fonts.

Pages are built from small pieces (:func:`table`, :func:`badge`, :func:`figure`, :func:`section`)
assembled by :func:`page`. Every figure is a :class:`parity.report.svg.Canvas`, written as SVG
directly (in milliseconds, no plotting library): the same inputs give a byte-identical page.

Examples
--------
>>> from parity.report.svg import Canvas
>>> fig = Canvas(3, 1.5)
>>> fig.panel().line([0, 1], [0, 1], colour="#0969da")
>>> html = page("demo", section("A line", figure(fig, "a line")))
>>> html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html
True
>>> html == page("demo", section("A line", figure(fig, "a line")))
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from parity._format import cell, number

if TYPE_CHECKING:
    from parity.report.svg import Canvas

VERDICT_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700"}
PALETTE = {"reference": "#0969da", "candidate": "#e16f24", "observed": "#cf222e"}
#: Backgrounds of table cells marked ``class="good"``, ``"warn"`` or ``"bad"`` (status grids).
CELL_COLOURS = {"good": "#dafbe1", "warn": "#fff8c5", "bad": "#ffebe9"}

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--fg); background: var(--bg); max-width: 1100px; margin: 0 auto;
       padding: 1.5rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem;
     margin-top: 2rem; }
h3 { font-size: 1.02rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .25rem .55rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em;
              word-break: break-all; }
.badge { display: inline-block; padding: .15rem .6rem; border-radius: 999px; color: #fff;
         font-weight: 600; letter-spacing: .02em; }
.verdict { border-left: 6px solid; padding: .6rem 1rem; margin: 1rem 0; background: #f6f8fa; }
.verdict .word { font-size: 1.5rem; font-weight: 700; text-transform: uppercase; }
.muted { color: var(--muted); }
figure.plot { margin: .5rem 0 1.2rem; break-inside: avoid; }
figure.plot svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85rem; }
ul.reasons { margin: .3rem 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr));
        gap: 0 1.2rem; }
td.good, td.warn, td.bad { text-align: center; white-space: nowrap; min-width: 2em; }
td.good { background: #dafbe1; color: #1a7f37; }
td.warn { background: #fff8c5; color: #7d4e00; }
td.bad { background: #ffebe9; color: #cf222e; }
.scroll { overflow-x: auto; }
.legend .key { margin-right: 1.2rem; white-space: nowrap; }
.legend .swatch { display: inline-block; width: .9em; height: .9em; margin-right: .35em;
                  vertical-align: -0.1em; border-radius: 2px; }
@media print { body { max-width: none; padding: 0; font-size: 11pt; }
               h2 { break-after: avoid; } table, figure.plot { break-inside: avoid; } }
"""


def escape(value: Any) -> str:
    """HTML-escape ``str(value)`` (:func:`parity.report.escape.html_text`: entities, and
    control characters shown as escapes)."""
    from parity.report.escape import html_text

    return html_text(value)


def figure(fig: Canvas, caption: str = "") -> str:
    """A ``<figure>`` holding the canvas' SVG and an escaped caption."""
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="plot">{fig.svg()}{cap}</figure>'


def badge(verdict: str, label: str | None = None) -> str:
    """A coloured pill in the verdict's colour, reading ``label`` (by default the verdict)."""
    colour = VERDICT_COLOURS.get(verdict, "#59636e")
    text = verdict if label is None else label
    return f'<span class="badge" style="background:{colour}">{escape(text)}</span>'


def verdict_banner(
    verdict: str, headline: str, reasons: Iterable[str] = (), tone: str | None = None
) -> str:
    """The verdict at the top of a page: the word in its colour, a headline and the reasons.

    ``verdict`` is the result's own status word, shown as it is; ``tone`` (``pass``, ``fail``
    or ``inconclusive``, by default ``verdict``) chooses its colour.

    Examples
    --------
    >>> banner = verdict_banner("changed", "2 of 9 behaviours changed", tone="fail")
    >>> '">changed</span>' in banner and VERDICT_COLOURS["fail"] in banner
    True
    """
    colour = VERDICT_COLOURS.get(verdict if tone is None else tone, "#59636e")
    items = "".join(f"<li>{escape(r)}</li>" for r in reasons)
    listing = f'<ul class="reasons">{items}</ul>' if items else ""
    return (
        f'<div class="verdict" style="border-color:{colour}">'
        f'<span class="word" style="color:{colour}">{escape(verdict)}</span> '
        f"<span>{escape(headline)}</span>{listing}</div>"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()):
    """An HTML table; cells are escaped unless wrapped in :class:`Raw`; ``numeric`` columns are
    right-aligned. A table wider than the page scrolls inside its own box, not the page."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, item in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            text = item.html if isinstance(item, Raw) else escape(item)
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    inner = f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
    return f'<div class="scroll"><table>{inner}</table></div>'


class Raw:
    """Trusted HTML for a :func:`table` cell (e.g. a :func:`badge`)."""

    __slots__ = ("html",)

    def __init__(self, html: str) -> None:
        self.html = html


def section(heading: str, *parts: str, level: int = 2) -> str:
    """A heading followed by already-rendered parts."""
    return f"<section><h{level}>{escape(heading)}</h{level}>{''.join(parts)}</section>"


def paragraph(text: str, muted: bool = False) -> str:
    """An escaped paragraph."""
    return f"<p{' class=muted' if muted else ''}>{escape(text)}</p>"


def grid(*parts: str, min_width: int = 290) -> str:
    """Parts (usually figures) side by side, each at least ``min_width`` CSS pixels wide,
    wrapping to the width of the page."""
    style = (
        ""
        if min_width == 290
        else f' style="grid-template-columns: repeat(auto-fill, minmax({int(min_width)}px, 1fr))"'
    )
    return f'<div class="grid"{style}>{"".join(parts)}</div>'


def legend(items: dict[str, str]) -> str:
    """A one-line key of colours, label → CSS colour, for figures drawn without a legend."""
    keys = "".join(
        f'<span class="key"><span class="swatch" style="background:{colour}"></span>'
        f"{escape(label)}</span>"
        for label, colour in items.items()
    )
    return f'<p class="legend">{keys}</p>'


def bullets(items: Iterable[Any]) -> str:
    """An escaped bullet list (empty string for no items)."""
    body = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f"<ul>{body}</ul>" if body else ""


def flatten(data: Any, prefix: str = "", max_items: int = 8) -> list[tuple[str, str]]:
    """``(key, text)`` rows for any JSON-like value: nested keys joined with dots, long lists
    summarized (count, min, median, max for numbers), numbers through
    :func:`parity._format.number`, other leaves through :func:`parity._format.cell`.

    Examples
    --------
    >>> flatten({"a": {"b": 1.23456, "c": [1, 2]}, "d": list(range(100))})
    [('a.b', '1.235'), ('a.c', '[1, 2]'), ('d', '100 values: min 0, median 49.5, max 99')]
    """
    if isinstance(data, dict):
        if not data:
            return [(prefix, "{}")] if prefix else []
        rows: list[tuple[str, str]] = []
        for key, value in data.items():
            rows += flatten(value, f"{prefix}.{key}" if prefix else str(key), max_items)
        return rows
    if isinstance(data, list | tuple):
        numbers = [v for v in data if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(data) <= max_items and len(numbers) == len(data):
            return [(prefix, "[" + ", ".join(number(v) for v in data) + "]")]
        if len(numbers) == len(data):
            ordered = sorted(float(v) for v in numbers)
            mid = len(ordered) // 2
            median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
            summary = (
                f"min {number(ordered[0])}, median {number(median)}, max {number(ordered[-1])}"
            )
            return [(prefix, f"{len(data)} values: {summary}")]
        if all(isinstance(v, str) for v in data):
            shown = ", ".join(data[:max_items])
            more = f" … and {len(data) - max_items} more" if len(data) > max_items else ""
            return [(prefix, shown + more)]
        rows = []
        for i, value in enumerate(data[:max_items]):
            rows += flatten(value, f"{prefix}[{i}]", max_items)
        if len(data) > max_items:
            rows.append((f"{prefix}[…]", f"{len(data) - max_items} more items"))
        return rows
    return [(prefix, cell(data))]


def key_values(data: Any, max_rows: int = 200, headers: Sequence[str] = ("field", "value")):
    """A two-column table of :func:`flatten`'s rows, for content of any shape; at most
    ``max_rows`` rows, then a row saying how many were left out."""
    rows = flatten(data)
    if len(rows) > max_rows:
        rows = [*rows[:max_rows], ("…", f"{len(rows) - max_rows} more rows")]
    return table(headers, rows)


def page(title: str, *parts: str) -> str:
    """A complete, self-contained HTML document (UTF-8, inline CSS, no scripts)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{escape(title)}</h1>{''.join(parts)}</body></html>\n"
    )


__all__ = [
    "CELL_COLOURS",
    "PALETTE",
    "VERDICT_COLOURS",
    "Raw",
    "badge",
    "bullets",
    "escape",
    "figure",
    "flatten",
    "grid",
    "key_values",
    "legend",
    "page",
    "paragraph",
    "section",
    "table",
    "verdict_banner",
]
