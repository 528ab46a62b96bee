"""One escaping rule per output format, for text that comes from data (task, metric, system,
component and file names, reasons quoting them):

- Markdown (:func:`md` for names, :func:`md_prose` for parity's sentences quoting them):
  ``\\ ` [ ] |`` backslash-escaped in names, a ``<`` or ``&`` that would open an HTML tag or
  an entity written as an entity, line breaks become spaces: a name stays one table cell, one
  line, and never becomes a link, an image or an HTML tag.
- CSV (:func:`csv_cell`): a text cell starting with ``= + - @``, a tab or a carriage return
  gets a leading ``'`` so that spreadsheets do not evaluate it as a formula.
- Terminal (:func:`visible`, from :mod:`parity._format` so that layers below ``report/``
  can quote a name in an error, and :func:`term`): control characters (ANSI escapes,
  carriage returns, newlines, C1 codes, DEL) are shown as ``\\x1b``, ``\\n`` …;
  :func:`term` also escapes Rich markup so that ``exp[/b]`` prints as written.
- HTML (:func:`html_text`, used by every page builder through ``parity.report.html.escape``):
  ``& < > " '`` as entities, and control characters other than tab and newline shown as in
  the terminal.

Examples
--------
>>> md("a|b <img src=x onerror=alert(1)> `c`")
'a\\\\|b &lt;img src=x onerror=alert(1)> \\\\`c\\\\`'
>>> csv_cell("=HYPERLINK(1)"), csv_cell("-1"), csv_cell(-1.0)
("'=HYPERLINK(1)", "'-1", -1.0)
>>> visible("ok\\x1b[2J\\nintact"), term("exp[/b]")
('ok\\\\x1b[2J\\\\nintact', 'exp\\\\[/b]')
"""

from __future__ import annotations

import re
from typing import Any

from parity._format import visible

_MD_SPECIAL = re.compile(r"([\\`\[\]|])")
# what CommonMark reads as raw HTML (a tag, comment, declaration) or an entity
_MD_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


_HTML_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def html_text(value: Any) -> str:
    """``value`` as HTML text: :func:`html.escape` (quotes included) and control characters
    other than tab and newline shown as escapes.

    Examples
    --------
    >>> html_text('<b a="1">' + chr(27) + "[2J")
    '&lt;b a=&quot;1&quot;&gt;\\\\x1b[2J'
    """
    import html

    text = _HTML_CONTROL.sub(lambda m: visible(m.group()), str(value))
    return html.escape(text, quote=True)


def md(value: Any) -> str:
    """``value`` (a name) as inert Markdown text: one line, one table cell, no code span,
    link, image or HTML (``\\ ` [ ] |`` backslash-escaped, a ``<`` or ``&`` that would open
    a tag or an entity written as an entity; ``p < 0.05`` stays as it is)."""
    return _MD_SPECIAL.sub(r"\\\1", md_prose(value))


def md_prose(value: Any) -> str:
    """parity's own sentences quoting names (reasons, warnings) as Markdown: one line, and no
    HTML (a ``<`` or ``&`` that would open a tag or an entity written as an entity); their
    code spans stay.

    Examples
    --------
    >>> md_prose("p = 0.01 < 0.05 for `task <img src=x>`\\nnext")
    'p = 0.01 < 0.05 for `task &lt;img src=x>` next'
    """
    text = " ".join(str(value).splitlines())
    return _MD_HTML.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", text)


def md_code(value: Any) -> str:
    """``value`` as a Markdown code span (one line): a backtick fence longer than any run of
    backticks inside, and ``|`` escaped as GitHub tables need.

    Examples
    --------
    >>> md_code("toy"), md_code("a`b")
    ('`toy`', '``a`b``')
    """
    text = " ".join(str(value).splitlines()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def csv_cell(value: Any) -> Any:
    """A CSV cell: text starting like a formula gets a leading ``'``; other values as is."""
    if isinstance(value, str) and value.startswith(_CSV_TRIGGERS):
        return "'" + value
    return value


def term(value: Any) -> str:
    """``value`` for a Rich console line: :func:`visible` and Rich markup escaped."""
    from rich.markup import escape

    return escape(visible(value))
