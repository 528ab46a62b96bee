"""Everything a person reads: Markdown and HTML reports, CSV and JSON tables, CI summaries, the
escaping rules and the evidence bundle. It may import every layer below it, never ``cli``."""
