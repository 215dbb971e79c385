"""Escaping and the layout every dashboard page shares."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

# Who may do what on a page: no script at all, styles only from the page itself, forms
# only back to the sandbox, and no framing (so no click-jacking of the sign-out button).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

NAVIGATION = (
    ("Events", "/_sandbox/events"),
    ("Usage", "/_sandbox/usage"),
    ("Activity", "/_sandbox/activity"),
)

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.5em;
         background: #1d2330; color: #fff; }
header nav a { color: #cfd6e4; margin-right: 1em; text-decoration: none; }
header nav a[aria-current=page] { color: #fff; border-bottom: 2px solid #7aa2ff; }
header form { margin-left: auto; }
main { padding: 1em 1.5em; max-width: 1200px; }
h1 { font-size: 1.3em; margin: .3em 0 .8em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .5em; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #e3e6eb;
         vertical-align: top; }
th { background: #eef0f4; font-weight: 600; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; }
form.filters { display: flex; flex-wrap: wrap; gap: .6em; align-items: end; margin-bottom: 1em; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #555; }
input { font: inherit; padding: .25em .4em; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: 12px; }
.refunded { background: #fde2e1; color: #9b1c1c; }
.disputed { background: #fff1c2; color: #7a5200; }
.conflict { background: #fde2e1; color: #9b1c1c; }
.same { background: #dff5e3; color: #1c6b2e; }
.notice { background: #fff; border-left: 4px solid #7aa2ff; padding: .5em 1em; }
.error { border-left-color: #d33; }
.pages { margin-top: 1em; display: flex; gap: 1em; }
.signin { max-width: 28em; margin: 4em auto; background: #fff; padding: 1.5em 2em; }
.signin input[name=token] { width: 100%; box-sizing: border-box; margin: .5em 0 1em; }
svg text { font-size: 11px; fill: #555; }
.legend span { display: inline-block; margin-right: 1.2em; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .3em; }
"""


def esc(value: object) -> str:
    """Text and attribute values alike: & < > " ' are escaped."""
    return html.escape(str(value), quote=True)


def link(path: str, query: Mapping[str, object], text: str) -> str:
    href = path + (
        "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")}) if query else ""
    )
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def document(title: str, body: str, *, merchant_id: str | None = None, current: str = "") -> str:
    """A whole page; with `merchant_id`, the signed-in header with the navigation."""
    header = ""
    if merchant_id is not None:
        links = " ".join(
            f'<a href="{path}"{" aria-current=page" if name == current else ""}>{name}</a>'
            for name, path in NAVIGATION
        )
        header = (
            f"<header><strong>paygentic sandbox</strong><nav>{links}</nav>"
            f"<span>merchant <code>{esc(merchant_id)}</code></span>"
            '<form method="post" action="/_sandbox/logout"><button>Sign out</button></form>'
            "</header>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · paygentic sandbox</title><style>{_STYLE}</style></head>"
        f"<body>{header}<main>{body}</main></body></html>"
    )


def table(headings: Iterable[str], rows: Iterable[Iterable[str]], *, empty: str) -> str:
    """`rows` hold HTML already escaped by the caller; `headings` are plain text."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="notice">{esc(empty)}</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def cell(value: object, css: str = "") -> str:
    return f'<td class="{css}">{esc(value)}</td>' if css else f"<td>{esc(value)}</td>"
