import json
import re

import pytest
from django.core.management import call_command

from apps.catalog.models import AIModel
from tests.factories import AIModelFactory, ResponseFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/models/",
    "/creators/",
    "/graveyard/",
    "/challenges/",
    "/methodology/",
    "/privacy/",
    "/terms/",
]


def head(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, pattern
    return match.group(1)


@pytest.fixture
def site():
    response = ResponseFactory()
    AIModelFactory(status=AIModel.Status.RETIRED, retired_on="2025-01-01")
    return response


def all_urls(site):
    return [
        *PAGES,
        site.model.get_absolute_url(),
        site.model.provider.get_absolute_url(),
        site.challenge.get_absolute_url(),
        site.get_absolute_url(),
    ]


def test_every_page_has_a_unique_title_and_description(client, site):
    titles, descriptions = set(), set()
    for url in all_urls(site):
        html = client.get(url).content.decode()
        titles.add(head(html, r"<title>([^<]+)</title>"))
        descriptions.add(head(html, r'<meta name="description" content="([^"]+)"'))
    assert len(titles) == len(all_urls(site))
    assert len(descriptions) == len(all_urls(site))


def test_every_page_has_canonical_and_social_tags(client, site, settings):
    for url in all_urls(site):
        html = client.get(url + "?utm_source=x").content.decode()
        assert f'<link rel="canonical" href="{settings.SITE_URL}{url}">' in html, url
        assert '<meta property="og:title"' in html, url
        assert '<meta name="twitter:card" content="summary">' in html, url


def test_breadcrumbs_are_published_as_json_ld(client, site, settings):
    html = client.get(site.get_absolute_url()).content.decode()
    data = json.loads(head(html, r'<script type="application/ld\+json">(.+?)</script>'))
    assert data["@type"] == "BreadcrumbList"
    names = [item["name"] for item in data["itemListElement"]]
    assert names == ["Home", "Models", site.model.name, site.challenge.title]
    assert data["itemListElement"][2]["item"] == settings.SITE_URL + site.model.get_absolute_url()


def test_json_ld_cannot_be_broken_out_of(client):
    model = AIModelFactory(name="</script><script>alert(1)</script>")
    html = client.get(model.get_absolute_url()).content.decode()
    block = head(html, r'<script type="application/ld\+json">(.+?)</script>')
    assert "<" not in block


def test_text_pages_explain_method_privacy_and_terms(client):
    html = client.get("/methodology/").content.decode()
    assert "temperature 0.7" in html.lower()
    assert "Bradley–Terry" in html
    assert "salted hash" in client.get("/privacy/").content.decode()
    assert "No warranty" in client.get("/terms/").content.decode()


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_frames(client):
    page = client.get("/robots.txt")
    text = page.content.decode()
    assert page["Content-Type"].startswith("text/plain")
    assert "Disallow: /r/" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


def test_sitemap_lists_every_public_page(client, site):
    index = client.get("/sitemap.xml").content.decode()
    for section in ("pages", "models", "creators", "challenges", "responses", "compare"):
        assert f"/sitemap-{section}.xml" in index
    urls = "".join(
        client.get(f"/sitemap-{s}.xml").content.decode()
        for s in ("pages", "models", "creators", "challenges", "responses")
    )
    for url in [*all_urls(site), "/compare/", "/leaderboard/"]:
        assert f"<loc>http://testserver{url}</loc>" in urls, url


def test_sitemap_leaves_out_unpublished_responses(client):
    hidden = ResponseFactory(is_published=False)
    assert hidden.get_absolute_url() not in client.get("/sitemap-responses.xml").content.decode()


def test_generate_dataset_makes_a_browsable_dataset(client):
    call_command("generate_dataset", models=12, challenges=5, coverage=0.5, seed=3)
    assert AIModel.objects.filter(slug__startswith="gen-").count() == 12
    assert client.get("/models/").status_code == 200
    call_command("generate_dataset", clear=True, models=0, challenges=0)
    assert not AIModel.objects.filter(slug__startswith="gen-").exists()
