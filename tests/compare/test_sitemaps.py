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


def test_sitemap_xml_has_a_compare_section_listing_the_pair_pages(client):
    shared_challenges(pair("alpha", "bravo"), 3)
    assert "/sitemap-compare.xml" in client.get("/sitemap.xml").content.decode()
    section = client.get("/sitemap-compare.xml").content.decode()
    assert "<loc>http://testserver/compare/alpha-vs-bravo/</loc>" in section
