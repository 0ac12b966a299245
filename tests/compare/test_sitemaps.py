import pytest

from apps.compare.sitemaps import ComparePairSitemap
from tests.compare.helpers import pair, shared_challenges

pytestmark = pytest.mark.django_db


def test_pair_sitemap_lists_pairs_with_at_least_three_shared_challenges():
    rich = pair("alpha", "bravo")
    thin = pair("charlie", "delta")
    shared_challenges(rich, 3)
    shared_challenges(thin, 2)
    sitemap = ComparePairSitemap()
    locations = [sitemap.location(item) for item in sitemap.items()]
    assert locations == ["/compare/alpha-vs-bravo/"]
