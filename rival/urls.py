from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from apps.pages.urls import sitemap_patterns
from apps.pages.views import healthz

# A database that cannot be reached is a 503 page, not a 500 (rival/views.py).
handler500 = "rival.views.server_error"

admin.site.site_header = "Rival curation"
admin.site.site_title = "Rival admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("compare/", include("apps.compare.urls")),
    path("lab/", include("apps.lab.urls")),
    path("", include("apps.pages.urls")),
    path("", include("apps.catalog.urls")),
    path("", include("apps.challenges.urls")),
    path("", include("apps.responses.urls")),
    path("", include("apps.arena.urls")),
    *sitemap_patterns,
]

# Response images are small and few; serving them from Django keeps the embedded default
# self-contained. Large deployments put MEDIA_URL behind a CDN or object storage instead.
urlpatterns += [
    re_path(
        rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$",
        serve,
        {"document_root": settings.MEDIA_ROOT},
    )
]
