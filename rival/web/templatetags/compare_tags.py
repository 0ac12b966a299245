from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def compare_cell(cell, tag: str) -> str:
    """One cell of a comparison (apps/compare/metrics.py `Cell`) as a `<td>` or `<dd>`, the
    better value marked in words. Built here rather than by an included template: a
    comparison page shows a hundred of them, and an include per cell cost ~2 ms per page."""
    mark = format_html(' <strong class="mark">✓ {}</strong>', cell.note) if cell.best else ""
    best = " best" if cell.best else ""
    return format_html('<{} class="cell{}">{}{}</{}>\n', tag, best, cell.display, mark, tag)
