import pytest
from django.urls import reverse

from rival.links import link, links_to


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("catalog:model", ["gpt-4o"]),
        ("responses:detail", ["qwen-3_5", "draw-a-pelican"]),
        ("responses:frame", [12345]),
        ("compare:challenge", ["a-vs-b", "c"]),
        ("pages:home", []),
    ],
)
def test_a_link_is_what_reverse_gives(name, args):
    assert link(name, *args) == reverse(name, args=args)


def test_arguments_that_need_quoting_go_through_reverse():
    assert link("compare:pair", "a b") == reverse("compare:pair", args=["a b"])


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("responses:detail", ["qwen-3_5"], "draw-a-pelican"),
        ("compare:challenge", ["needs quoting"], "draw-a-pelican"),
        ("compare:pair", [], "needs quoting"),
        ("compare:challenge", ["a-vs-b"], 17),
        ("catalog:model", [], "gpt-4o"),
    ],
)
def test_links_to_the_last_argument_are_what_reverse_gives(name, first, last):
    assert links_to(name, *first)(last) == reverse(name, args=[*first, last])
