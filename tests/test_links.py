import pytest
from django.urls import reverse

from rival.links import link


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
