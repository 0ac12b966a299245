"""The one place model-written HTML and SVG are served: a document meant only for a sandbox.

Pages never inline these outputs. They frame this endpoint with `sandbox="allow-scripts"`, so
the document runs in an opaque origin; on top of that, the response itself carries a policy
that allows inline script and style (the output needs them) but no network access at all, and
re-applies the sandbox in case someone opens the URL directly.
"""

from django.utils.csp import CSP

FRAME_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.UNSAFE_INLINE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": ["data:"],
    "font-src": ["data:"],
    "media-src": ["data:"],
    "form-action": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.SELF],
    "sandbox": ["allow-scripts"],
}

# SVG is wrapped in a minimal HTML document so it scales to the frame; inside the sandbox the
# markup runs exactly as it would as a standalone image document.
SVG_DOCUMENT = (
    '<!DOCTYPE html><html><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<style>html,body{margin:0;height:100%;background:#fff}"
    "body{display:flex;align-items:center;justify-content:center}"
    "body>svg{max-width:100%;max-height:100vh;height:auto}</style>"
    "</head><body>{svg}</body></html>"
)


def frame_document(content: str, output_type: str) -> str:
    if output_type == "svg":
        return SVG_DOCUMENT.replace("{svg}", content)
    return content
