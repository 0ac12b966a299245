"""Turning untrusted model output into HTML that is safe to put in our pages.

Everything a model wrote is hostile until it has been through here:

- Markdown is parsed with raw HTML disabled, then the result goes through an nh3 allow-list, so
  a parser bug or an odd construct can never smuggle a tag or attribute we did not list.
- Code is highlighted server-side by Pygments with CSS classes, never inline styles (our CSP
  allows no inline styles).
- HTML and SVG outputs are never rendered here: pages frame them from `responses:frame`, and
  this module only produces their highlighted *source* for the "view source" toggle.

Rendering is pure (text in, HTML out) and deterministic, so it is cached by content hash: on
the response row when it is saved, and in the cache for rows written in bulk.
"""

import hashlib
from functools import lru_cache

import nh3
from django.core.cache import cache
from django.utils.html import escape
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name, guess_lexer
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# Bump when the output of this module changes, so cached renderings are recomputed.
RENDERER_VERSION = "2"

# Guessing a lexer is slow on long inputs and rarely right on prose; above this, plain text.
GUESS_LIMIT = 20_000
# Pygments is linear but not fast; a megabyte of code is shown escaped, not highlighted.
HIGHLIGHT_LIMIT = 300_000

LINK_REL = "nofollow noopener noreferrer"

_TOKEN_CLASSES = {cls for cls in STANDARD_TYPES.values() if cls}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
    "abbr": {"title"},
}
ALLOWED_CLASSES = {"span": _TOKEN_CLASSES, "div": {"highlight"}}
URL_SCHEMES = {"http", "https", "mailto"}

_formatter = HtmlFormatter(cssclass="highlight", nowrap=False)


def sanitize(html: str) -> str:
    """The last line of defence: keep only listed tags, attributes, classes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        link_rel=LINK_REL,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
    )


@lru_cache(maxsize=256)
def _named_lexer(name: str):
    """Lexer lookup scans every plugin; a long answer has hundreds of fences in few languages."""
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


def _lexer_for(code: str, language: str | None):
    words = (language or "").split()
    if words and (lexer := _named_lexer(words[0].lower()[:40])):
        return lexer
    if len(code) <= GUESS_LIMIT and code.strip():
        try:
            return guess_lexer(code)
        except ClassNotFound:
            pass
    return TextLexer()


def highlight_code(code: str, language: str | None = None) -> str:
    """Highlighted `<div class="highlight"><pre>…</pre></div>`, escaped, classes only."""
    if len(code) > HIGHLIGHT_LIMIT:
        return f'<div class="highlight"><pre>{escape(code)}</pre></div>'
    return highlight(code, _lexer_for(code, language), _formatter)


def _render_fence(self, tokens, idx, options, env):
    token = tokens[idx]
    language = token.info.strip() if token.info else None
    return highlight_code(token.content, language or "text")


def _render_code_block(self, tokens, idx, options, env):
    return highlight_code(tokens[idx].content, "text")


def _render_image(self, tokens, idx, options, env):
    # Model-chosen image URLs would load third-party content into our pages (tracking, and a
    # CSP violation): show the alt text as a plain link instead.
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    return f'<a href="{escape(src)}">{escape("Image: " + alt)}</a>'


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_code_block)
    md.add_render_rule("image", _render_image)
    return md


_md = _markdown()


def _scrollable_regions_focusable(html: str) -> str:
    """Code blocks and tables scroll sideways on phones; keyboard users must reach them.

    Runs after sanitising and only inserts fixed markup of ours, never model text."""
    return (
        html.replace('<div class="highlight"><pre>', '<div class="highlight"><pre tabindex="0">')
        .replace("<table>", '<div class="table-wrap" tabindex="0"><table>')
        .replace("</table>", "</table></div>")
    )


def render_markdown(text: str) -> str:
    """Markdown (raw HTML off) → sanitised HTML with highlighted code and rel'd links."""
    return _scrollable_regions_focusable(sanitize(_md.render(text or "")))


def render_code(text: str, language: str | None = None) -> str:
    """A code output: Markdown when the model fenced its code, else the whole text highlighted."""
    if "```" in text or "~~~" in text:
        return render_markdown(text)
    return _scrollable_regions_focusable(sanitize(highlight_code(text, language)))


def render_source(text: str, output_type: str) -> str:
    """The highlighted source of an HTML or SVG output, for the "view source" toggle."""
    language = "html" if output_type == "html" else "xml"
    return _scrollable_regions_focusable(sanitize(highlight_code(text, language)))


def render_output(content: str, output_type: str) -> str:
    """The safe HTML for a response's content, by output type.

    For `html` and `svg` it is the highlighted source (the output itself is only ever framed);
    for `image` the content is a caption, rendered as Markdown.
    """
    if output_type == "code":
        return render_code(content)
    if output_type in ("html", "svg"):
        return render_source(content, output_type)
    return render_markdown(content)


def content_hash(content: str, output_type: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{RENDERER_VERSION}:{output_type}:".encode())
    digest.update((content or "").encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def rendered_html(response) -> str:
    """The cached safe HTML of a Response: from its row when current, else from the cache.

    Rows saved through the ORM carry their rendering (see Response.save); rows written with
    bulk_create or update() fall back to the cache, keyed by content hash, so each distinct
    content is rendered once, not per request.
    """
    key = content_hash(response.content, response.output_type)
    if response.rendered_hash == key and response.rendered_html:
        return response.rendered_html
    cache_key = f"rendered:{key}"
    html = cache.get(cache_key)
    if html is None:
        html = render_output(response.content, response.output_type)
        cache.set(cache_key, html, timeout=None)
    return html
