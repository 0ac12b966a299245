"""A corpus of hostile model outputs and a checker for executable vectors in our pages.

Each payload, if it ever ran in our top document, would set `window.top.__pwned` or change
`document.title` — the browser test looks for exactly that.
"""

from html.parser import HTMLParser

PWN = "window.top.__pwned=1;top.document.title='pwned'"

MARKDOWN_PAYLOADS = [
    f"<script>{PWN}</script>",
    f'<img src=x onerror="{PWN}">',
    f'<svg onload="{PWN}"></svg>',
    f'<iframe src="javascript:{PWN}"></iframe>',
    f"[click me](javascript:{PWN})",
    f"[click me](JaVaScRiPt:{PWN})",
    f"[click me](  javascript:{PWN})",
    f"[click me](&#106;avascript:{PWN})",
    f"[click me](java&#x09;script:{PWN})",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    f"![img](javascript:{PWN})",
    f'![x" onerror="{PWN}](https://example.com/a.png)',
    "![tracker](https://evil.example/pixel.gif)",
    f'<a href="javascript:{PWN}">raw link</a>',
    f'<details open ontoggle="{PWN}">x</details>',
    f'<body onload="{PWN}">',
    f"<style>body{{background:url(javascript:{PWN})}}</style>",
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>',
    "<link rel=stylesheet href=https://evil.example/x.css>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    f'<form action="javascript:{PWN}"><button>go</button></form>',
    f'<math><mtext><table><mglyph><style><img src=x onerror="{PWN}">',
    f"&lt;script&gt;{PWN}&lt;/script&gt;",
    f"```html\n<script>{PWN}</script>\n```",
    f'```"><script>{PWN}</script>\nx\n```',
    f'`<img src=x onerror="{PWN}">`',
    f'[a](https://ok.example "title\\" onmouseover=\\"{PWN}")',
    f'<object data="javascript:{PWN}"></object>',
    f'<embed src="javascript:{PWN}">',
    f'<noscript><p title="</noscript><img src=x onerror={PWN}>"></noscript>',
    f'| a |\n|---|\n| <img src=x onerror="{PWN}"> |',
    f"[link][ref]\n\n[ref]: javascript:{PWN}",
    f'<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:{PWN}">e</a>',
]

HTML_PAYLOADS = [
    f"<!doctype html><html><body><script>{PWN}</script><h1>app</h1></body></html>",
    f'<html><body onload="{PWN}">x</body></html>',
    f"<script>try{{top.location='https://evil.example'}}catch(e){{}};{PWN}</script>",
    f"<script>parent.document.body.innerHTML='pwned';{PWN}</script>",
    '<form action="https://evil.example"><input name=q><button>send</button></form>',
    "<script>window.open('https://evil.example')</script>",
    "</textarea></pre></details><script>top.__pwned=1</script>",
    '<img src="https://evil.example/beacon.gif">',
]

SVG_PAYLOADS = [
    f'<svg xmlns="http://www.w3.org/2000/svg" onload="{PWN}"><circle r="5"/></svg>',
    f'<svg xmlns="http://www.w3.org/2000/svg"><script>{PWN}</script></svg>',
    f'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="100" height="100">'
    f'<body xmlns="http://www.w3.org/1999/xhtml"><script>{PWN}</script></body>'
    "</foreignObject></svg>",
    f'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:{PWN}">'
    '<text y="20">x</text></a></svg>',
    f'<svg><animate onbegin="{PWN}" attributeName="x" dur="1s"/></svg>',
    f'<svg><set attributeName="onload" to="{PWN}"/></svg>',
    "<svg><style>@import url(https://evil.example/x.css);</style></svg>",
    f'<svg><image href="javascript:{PWN}"/></svg>',
]

# Image outputs: what a hostile importer or gateway could put where an image URL goes.
IMAGE_CONTENTS = [
    f"javascript:{PWN}",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    f'" onerror="{PWN}',
]
IMAGE_NAMES = [
    f'responses/x" onerror="{PWN}.png',
    "responses/'><script>top.__pwned=1</script>.png",
]

CODE_PAYLOADS = [
    f"</code></pre><script>{PWN}</script>",
    f"def f():\n    return '<img src=x onerror=\"{PWN}\">'",
]


def corpus() -> list[tuple[str, str]]:
    """(output_type, content) pairs; image names are tested separately."""
    return [
        *(("text", p) for p in MARKDOWN_PAYLOADS),
        *(("html", p) for p in HTML_PAYLOADS),
        *(("svg", p) for p in SVG_PAYLOADS),
        *(("image", p) for p in IMAGE_CONTENTS),
        *(("code", p) for p in CODE_PAYLOADS),
    ]


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}
FORBIDDEN_TAGS = {"object", "embed", "base", "style", "svg", "math", "form", "applet", "frame"}
OUR_SCRIPT_PREFIX = "/static/js/"


class _VectorFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_ld_json = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if name in URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}> dangerous URL")
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> is not allowed in our pages")
        if tag == "script":
            src = attributes.get("src") or ""
            if attributes.get("type") == "application/ld+json":
                self._in_ld_json = True
            elif not src.startswith(OUR_SCRIPT_PREFIX):
                self.problems.append(f"<script> that is not ours: {attrs}")
        if tag == "iframe":
            src = attributes.get("src") or ""
            if attributes.get("sandbox") != "allow-scripts":
                self.problems.append(f"<iframe> without exactly sandbox=allow-scripts: {attrs}")
            if not (src.startswith("/r/") and src.endswith("/frame/")):
                self.problems.append(f"<iframe> not from the frame endpoint: {src!r}")
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")
        href = attributes.get("href") or ""
        if (
            tag == "link"
            and not href.startswith("/static/")
            and attributes.get("rel") != "canonical"
        ):
            self.problems.append(f"<link> to elsewhere: {attrs}")
        if tag == "a" and (attributes.get("href") or "").startswith("http"):
            rel = set((attributes.get("rel") or "").split())
            if not {"nofollow", "noopener", "noreferrer"} <= rel:
                self.problems.append(f"external link without rel nofollow noopener: {attrs}")

    def handle_data(self, data):
        if self._in_ld_json and "</script" in data.lower():
            self.problems.append("JSON-LD data closes its element")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_ld_json = False


def executable_vectors(html: str) -> list[str]:
    finder = _VectorFinder()
    finder.feed(html)
    finder.close()
    return finder.problems
