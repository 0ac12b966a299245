"""The one place model-written HTML and SVG are served: a document meant only for a sandbox.

Pages never inline these outputs. They frame this endpoint with `sandbox="allow-scripts"`, so
the document runs in an opaque origin; on top of that, the response itself carries a policy
that allows inline script and style (the output needs them) but no network access at all, and
re-applies the sandbox in case someone opens the URL directly.
"""

from django.http import HttpResponse
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

# Many SVGs give a pixel width and height but no viewBox, so they crop instead of scaling to
# the frame. Deriving the viewBox from the size lets them scale; it runs inside the sandbox.
FIT_SCRIPT = (
    "<script>(function(){var s=document.querySelector('body>svg');if(!s)return;"
    "var n=/^\\s*[0-9.]+(px)?\\s*$/,w=s.getAttribute('width'),h=s.getAttribute('height');"
    "if(!s.getAttribute('viewBox')&&n.test(w||'')&&n.test(h||''))"
    "s.setAttribute('viewBox','0 0 '+parseFloat(w)+' '+parseFloat(h));"
    "if(s.getAttribute('viewBox'))s.setAttribute('class',(s.getAttribute('class')||'')+' fit');"
    "})();</script>"
)

# SVG is wrapped in a minimal HTML document so it scales to the frame; inside the sandbox the
# markup runs exactly as it would as a standalone image document.
SVG_DOCUMENT = (
    '<!DOCTYPE html><html><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<style>html,body{margin:0;height:100%;background:#fff}"
    "body{display:flex;align-items:center;justify-content:center}"
    "body>svg{max-width:100%;max-height:100vh;height:auto}"
    "body>svg.fit{width:100%;height:100vh}</style>"
    "</head><body>{svg}" + FIT_SCRIPT + "</body></html>"
)


def frame_document(content: str, output_type: str) -> str:
    if output_type == "svg":
        return SVG_DOCUMENT.replace("{svg}", content)
    return content


def frame_response(content: str, output_type: str, *, private: bool) -> HttpResponse:
    """The one way every sandboxed frame is served (published responses, Lab results, arena
    battles): the document under FRAME_CSP, frameable by our own pages only, never sniffed as
    another type, never sending a referrer, never loadable cross-origin. `private` outputs
    (a visitor's Lab run, a blind battle) are never stored by a browser or proxy."""
    reply = HttpResponse(
        frame_document(content, output_type), content_type="text/html; charset=utf-8"
    )
    reply._csp_config = FRAME_CSP  # what @csp_override sets; read by the CSP middleware
    reply["X-Frame-Options"] = "SAMEORIGIN"
    reply["X-Content-Type-Options"] = "nosniff"
    reply["Referrer-Policy"] = "no-referrer"
    reply["Cross-Origin-Resource-Policy"] = "same-origin"
    reply["Cache-Control"] = "private, no-store" if private else "max-age=300"
    return reply
