from django import template

from apps.developers.badges import embed_snippets

register = template.Library()


@register.inclusion_tag("developers/_badge_embed.html")
def badge_embed(model):
    """The copyable badge snippet for a model page."""
    return {"model": model, **embed_snippets(model.slug, model.name)}
