"""sitemap.xml: every public page. Each section is one query, whatever the data size."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Challenge
from apps.compare.sitemaps import ComparePairSitemap
from apps.responses.models import Response


class StaticSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return [
            "pages:home",
            "catalog:list",
            "catalog:creators",
            "catalog:graveyard",
            "challenges:list",
            "compare:index",
            "arena:leaderboard",
            "arena:arena",
            "lab:index",
            "developers:hub",
            "pages:methodology",
            "pages:privacy",
            "pages:terms",
        ]

    def location(self, item):
        return reverse(item)


class ModelSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return AIModel.objects.only("slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class CreatorSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return Provider.objects.only("slug").order_by("pk")


class ChallengeSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Challenge.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class ResponseSitemap(Sitemap):
    changefreq = "monthly"
    limit = 10_000

    def items(self):
        return (
            Response.objects.visible()
            .select_related("model", "challenge")
            .only("id", "collected_at", "model__slug", "challenge__slug")
            .order_by("pk")
        )

    def lastmod(self, item):
        return item.collected_at


SITEMAPS = {
    "pages": StaticSitemap,
    "models": ModelSitemap,
    "creators": CreatorSitemap,
    "challenges": ChallengeSitemap,
    "responses": ResponseSitemap,
    "compare": ComparePairSitemap,
}
