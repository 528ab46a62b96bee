"""Self-contained, offline HTML pages: inline CSS and inline SVG figures, no scripts or fonts.

Pages are built from small pieces (:func:`table`, :func:`badge`, :func:`figure`, :func:`section`)
assembled by :func:`page`. Figures come from matplotlib's object API (``Figure`` with the Agg
canvas, never pyplot) and are written as SVG with a fixed hash salt and no date, so the same
inputs give a byte-identical page.

Examples
--------
>>> fig = new_figure(3, 1.5)
>>> ax = fig.add_subplot()
>>> _ = ax.plot([0, 1], [0, 1])
>>> html = page("demo", section("A line", figure(fig, "a line")))
>>> html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html
True
>>> html == page("demo", section("A line", figure(fig, "a line")))
True
"""

from __future__ import annotations

import html as _html
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

SVG_HASH_SALT = "parity"
VERDICT_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700"}
PALETTE = {"reference": "#0969da", "candidate": "#e16f24", "observed": "#cf222e"}

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
td.num { text-align: right; font-variant-numeric: tabular-nums; }
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
@media print { body { max-width: none; padding: 0; font-size: 11pt; }
               h2 { break-after: avoid; } table, figure.plot { break-inside: avoid; } }
"""


def escape(value: Any) -> str:
    """HTML-escape ``str(value)``."""
    return _html.escape(str(value), quote=True)


def new_figure(width: float = 6.4, height: float = 2.4):
    """A matplotlib ``Figure`` (inches) on the Agg canvas, never registered with pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def svg(fig) -> str:
    """The figure as an inline ``<svg>`` element: fixed hash salt, no metadata date, ids made
    unique within the page by a prefix derived from the figure's own content."""
    import hashlib

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    prefix = "f" + hashlib.sha256(text.encode()).hexdigest()[:8] + "-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m[1]}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m[1]})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m[1]}"', text)
    return text.strip()


def figure(fig, caption: str = "") -> str:
    """A ``<figure>`` holding the figure's SVG and an escaped caption."""
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="plot">{svg(fig)}{cap}</figure>'


def badge(verdict: str) -> str:
    """A coloured pill with the verdict word."""
    colour = VERDICT_COLOURS.get(verdict, "#59636e")
    return f'<span class="badge" style="background:{colour}">{escape(verdict)}</span>'


def verdict_banner(verdict: str, headline: str, reasons: Iterable[str] = ()) -> str:
    """The verdict at the top of a page: the word in its colour, a headline and the reasons."""
    colour = VERDICT_COLOURS.get(verdict, "#59636e")
    items = "".join(f"<li>{escape(r)}</li>" for r in reasons)
    listing = f'<ul class="reasons">{items}</ul>' if items else ""
    return (
        f'<div class="verdict" style="border-color:{colour}">'
        f'<span class="word" style="color:{colour}">{escape(verdict)}</span> '
        f"<span>{escape(headline)}</span>{listing}</div>"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()):
    """An HTML table; cells are escaped unless wrapped in :class:`Raw`; ``numeric`` columns are
    right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            text = cell.html if isinstance(cell, Raw) else escape(cell)
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


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
    return f'<p{" class=muted" if muted else ""}>{escape(text)}</p>'


def page(title: str, *parts: str) -> str:
    """A complete, self-contained HTML document (UTF-8, inline CSS, no scripts)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{escape(title)}</h1>{''.join(parts)}</body></html>\n"
    )


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a report cell: ``digits`` significant digits; strings pass through."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


__all__ = [
    "PALETTE",
    "VERDICT_COLOURS",
    "Raw",
    "badge",
    "escape",
    "figure",
    "fmt",
    "new_figure",
    "page",
    "paragraph",
    "section",
    "svg",
    "table",
    "verdict_banner",
]
