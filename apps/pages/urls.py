from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from apps.pages import views
from apps.pages.sitemaps import SITEMAPS

app_name = "pages"

urlpatterns = [
    path("", views.home, name="home"),
    path("methodology/", views.text_page, {"page": "methodology"}, name="methodology"),
    path("privacy/", views.text_page, {"page": "privacy"}, name="privacy"),
    path("terms/", views.text_page, {"page": "terms"}, name="terms"),
    path("robots.txt", views.robots_txt, name="robots"),
]

# Outside the namespace: the sitemap index reverses its sections by this plain name.
sitemap_patterns = [
    path(
        "sitemap.xml",
        views.cache_page_keyed_on_page_number(60 * 15)(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        views.cache_page_keyed_on_page_number(60 * 15)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
]
