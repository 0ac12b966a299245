"""plain_select renders a filter form's <select> exactly as Django's widget does."""

import pytest
from django.http import QueryDict

from apps.catalog import selectors as catalog
from apps.catalog.views import ModelFilterForm
from apps.challenges import selectors as challenges
from apps.challenges.views import ChallengeFilterForm
from rival.web.templatetags.form_tags import plain_select
from tests.factories import CategoryFactory, ProviderFactory

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "creator=",
    "creator=acme&sort=price&status=retired&size=large",
    "creator=a%26b&sort=name&category=text&output_type=svg",
    "creator=nobody&sort=bogus&size=huge",
    "creator=acme&creator=a%26b",
    "q=%3Cscript%3E&sort=rating",
]


@pytest.mark.parametrize("query", QUERIES)
def test_plain_select_matches_the_widget_for_every_filter_field(query):
    ProviderFactory(slug="acme", name="Acme")
    ProviderFactory(slug="a&b", name='A&B <"labs">')
    CategoryFactory(slug="text", name="Text & more")
    data = QueryDict(query)
    forms = [
        ModelFilterForm(data, catalog.filter_choices()),
        ChallengeFilterForm(data, challenges.categories()),
    ]
    for form in forms:
        form.is_valid()
        for field in form:
            if field.name != "q":
                assert str(plain_select(field)) == str(field.as_widget()), (query, field.name)
