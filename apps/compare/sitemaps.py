from django.contrib.sitemaps import Sitemap

from apps.compare import pairs


class ComparePairSitemap(Sitemap):
    """Pair pages worth a visit: pairs sharing at least SITEMAP_MIN_SHARED challenges.

    Not all n² pairs: a pair with one or two shared challenges is a thin page.
    """

    changefreq = "weekly"
    priority = 0.5
    limit = 10_000

    def items(self):
        return pairs.sitemap_pairs()

    def location(self, item):
        return item.url
