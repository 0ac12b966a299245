from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def compare_cell(cell, tag: str) -> str:
    """One cell of a comparison (apps/compare/metrics.py `Cell`) as a `<td>` or `<dd>`, the
    better value marked in words. Built here rather than by an included template: a
    comparison page shows a hundred of them, and an include per cell cost ~2 ms per page."""
    mark = format_html(' <strong class="mark">✓ {}</strong>', cell.note) if cell.best else ""
    best = " best" if cell.best else ""
    return format_html('<{} class="cell{}">{}{}</{}>\n', tag, best, cell.display, mark, tag)


@register.simple_tag
def compare_metrics(metrics) -> str:
    """A side's `(label, Cell)` metrics as the items of its `<dl>`, escaped like the template
    they replace (a template loop over four metrics on twelve sides cost ~0.5 ms per page)."""
    return format_html_join(
        "",
        "<div><dt>{}</dt>{}</div>",
        ((label, compare_cell(cell, "dd")) for label, cell in metrics),
    )


@register.simple_tag
def answered_items(entries) -> str:
    """The `<li>` items of an "answered by only one" list (apps/compare/selectors.py
    `AnsweredEntry`): a pair page lists a hundred, and the template loop cost ~1 ms."""
    return format_html_join(
        "",
        '<li><a href="{}">{}</a> <span class="muted">{}</span></li>',
        ((entry.url, entry.title, entry.category_name or "") for entry in entries),
    )
