import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import _json_script_escapes
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def json_ld(data):
    """A JSON-LD data block. Browsers never execute it; `<`, `>` and `&` are escaped so a
    value cannot close the element."""
    if not data:
        return ""
    payload = json.dumps(data, cls=DjangoJSONEncoder).translate(_json_script_escapes)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308
