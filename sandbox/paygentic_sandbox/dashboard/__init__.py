"""The sandbox's dashboard at /_sandbox/: what one merchant's integration recorded, in a
browser. Server-rendered HTML with an inline SVG chart: no JavaScript, no CDN, nothing to
build. Every value shown is escaped (it is customer data), and the pages send a
Content-Security-Policy that allows no script at all.

    views.py    the routes: sign-in with a token, a session cookie, the pages
    html.py     escaping and the page layout
    queries.py  the reads of the store behind the pages
    chart.py    usage over time as series of buckets, drawn as SVG
"""
