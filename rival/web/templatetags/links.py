from django import template

from rival.links import link as cached_link

register = template.Library()


@register.simple_tag
def link(name: str, *args) -> str:
    """`{% url %}` for links repeated on every card: the URL name is reversed once per process
    (rival/links.py)."""
    return cached_link(name, *args)
