"""`{% fragment "name" key… %}…{% endfragment %}`: a region of a public page rendered once per
content version (rival/cacheversion.py) and served from the cache until the version changes.

The version is bumped by every write that changes what a public page shows (a response
published, retired or written, the catalog or a challenge edited, a leaderboard snapshot), so
a fragment is never staler than the anonymous page cache. Only for regions that depend on
nothing else: not on the visitor, not on the clock ("5 minutes ago"), not on a query parameter
left out of the keys. The keys name what else the region depends on (the model, the page
number, a sort), and a view passes what only the region uses as a callable (the template calls
it, inside a `{% with %}` so once), so a cached region costs no query. Signed-in visitors
always get a fresh render.
"""

import hashlib

from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

from rival.cacheversion import content_version, per_content_version

register = template.Library()


def _signed_in(context) -> bool:
    """Signed-in visitors (a curator checking an edit) always get a fresh render, as from the
    page cache. Asked without touching the session of a visitor who has none."""
    request = getattr(context, "request", None)
    if request is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return request.user.is_authenticated


def _version(context) -> int:
    """The content version, read once per request: a page's fragments agree on it."""
    request = getattr(context, "request", None)
    if request is None:
        return content_version()
    if not hasattr(request, "_fragment_version"):
        request._fragment_version = content_version()
    return request._fragment_version


class FragmentNode(template.Node):
    def __init__(self, nodelist, name: str, keys: list):
        self.nodelist = nodelist
        self.name = name
        self.keys = keys

    def render(self, context):
        if settings.FRAGMENT_CACHE_SECONDS <= 0 or _signed_in(context):
            return self.nodelist.render(context)
        parts = "\x1f".join(str(key.resolve(context)) for key in self.keys)
        digest = hashlib.md5(parts.encode(), usedforsecurity=False).hexdigest()
        html = per_content_version(
            f"fragment:{self.name}:{digest}",
            lambda: str(self.nodelist.render(context)),
            version=_version(context),
        )
        return mark_safe(html)  # noqa: S308 - the template's own rendered (escaped) output


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a quoted name")
    name = bits[1]
    if not (name[0] == name[-1] and name[0] in "'\""):
        raise template.TemplateSyntaxError("{% fragment %}'s name must be a quoted string")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, name[1:-1], [parser.compile_filter(bit) for bit in bits[2:]])
