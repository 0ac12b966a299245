from django import forms, template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def plain_select(field) -> str:
    """`field.as_widget()` for a plain single `<select>` (no option groups, no errors, no help
    text), byte for byte, built in Python: Django renders each option through two included
    templates, ~3 ms for the filter forms of /models/, on every uncached list page. Anything
    else goes through the widget as usual."""
    widget = field.field.widget
    plain = (
        type(widget) is forms.Select
        and not widget.attrs
        and not field.field.required
        and not field.field.disabled
        and not field.help_text
        and not field.errors
    )
    if not plain:
        return field.as_widget()
    value = widget.format_value(field.value())
    parts = [f'<select name="{conditional_escape(field.html_name)}"']
    if field.auto_id:
        parts.append(f' id="{conditional_escape(field.auto_id)}"')
    parts.append(">")
    selected = False
    for option_value, label in field.field.choices:
        if isinstance(label, (list, tuple)):
            return field.as_widget()  # an option group
        option = "" if option_value is None else str(option_value)
        mark = ""
        if not selected and option in value:
            mark, selected = " selected", True
        parts.append(
            f'\n  <option value="{conditional_escape(option)}"{mark}>'
            f"{conditional_escape(label)}</option>\n"
        )
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
