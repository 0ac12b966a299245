from django import template
from django.utils.safestring import SafeString

from rival.web.markup import escaped, html_join

register = template.Library()


def _cell(cell, tag: str) -> str:
    mark = f' <strong class="mark">✓ {escaped(cell.note)}</strong>' if cell.best else ""
    best = " best" if cell.best else ""
    return f'<{tag} class="cell{best}">{escaped(cell.display)}{mark}</{tag}>\n'


@register.simple_tag
def compare_cell(cell, tag: str) -> str:
    """One cell of a comparison (apps/compare/metrics.py `Cell`) as a `<td>` or `<dd>`, the
    better value marked in words. Built here rather than by an included template: a
    comparison page shows a hundred of them, and an include per cell cost ~2 ms per page.
    `tag` is the template's own literal; the values are escaped (rival/web/markup.py)."""
    return SafeString(_cell(cell, tag))


@register.simple_tag
def compare_metrics(metrics) -> str:
    """A side's `(label, Cell)` metrics as the items of its `<dl>`, escaped like the template
    they replace (a template loop over four metrics on twelve sides cost ~0.5 ms per page, and
    format_html per value as much again)."""
    return SafeString(
        "".join(
            f"<div><dt>{escaped(label)}</dt>{_cell(cell, 'dd')}</div>" for label, cell in metrics
        )
    )


@register.simple_tag
def answered_items(entries) -> str:
    """The `<li>` items of an "answered by only one" list (apps/compare/selectors.py
    `AnsweredEntry`): a pair page lists a hundred, and the template loop cost ~1 ms."""
    return html_join(
        '<li><a href="{}">{}</a> <span class="muted">{}</span></li>',
        ((entry.url, entry.title, entry.category_name or "") for entry in entries),
    )
