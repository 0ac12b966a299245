from django.utils.html import conditional_escape, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from rival.web.markup import escaped, html_join

VALUES = [
    "plain",
    "<script>alert('x')</script> & \"quoted\"",
    "e\u0301 ☃",
    mark_safe("<b>already safe</b>"),
    gettext_lazy("Lazy <text>"),
    42,
    None,
    "{braces} {0}",
]


def test_each_value_is_escaped_as_the_template_escapes_it():
    for value in VALUES:
        assert escaped(value) == conditional_escape(value)


def test_a_joined_list_is_what_format_html_join_gives():
    rows = [(value, "/x?a=1&b=2", value) for value in VALUES]

    joined = html_join('<li><a href="{1}">{0}</a> {2}</li>\n', rows)

    assert joined == format_html_join("", '<li><a href="{1}">{0}</a> {2}</li>\n', rows)
    assert hasattr(joined, "__html__")
