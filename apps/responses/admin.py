from django.contrib import admin
from django.urls import NoReverseMatch
from django.utils.html import format_html

from apps.responses.models import Response

METRICS = [
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "ttft_ms",
    "cost_usd",
    "finish_reason",
    "gateway_request_id",
]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "output_type",
        "source",
        "collected_at",
        "tokens_out",
        "latency_ms",
        "cost_usd",
        "is_published",
    ]
    list_filter = [
        "output_type",
        "source",
        "is_published",
        "model__provider",
        "model__status",
        "challenge__category",
        "challenge",
    ]
    search_fields = ["model__name", "model__slug", "challenge__title", "challenge__slug"]
    list_select_related = ["model", "challenge"]
    raw_id_fields = ["model", "challenge"]
    date_hierarchy = "collected_at"
    fieldsets = [
        (None, {"fields": ["public_page", "model", "challenge", "is_published", "title", "note"]}),
        ("Output", {"fields": ["output_type", "content", "image"]}),
        (
            "Reproducibility",
            {"fields": ["prompt", "settings", "source", "collected_at", *METRICS]},
        ),
    ]
    # What was sent and measured is a record of fact: curators annotate, they don't rewrite it.
    readonly_fields = ["public_page", "prompt", "settings", "source", "collected_at", *METRICS]

    @admin.display(description="public page")
    def public_page(self, obj):
        if not obj.pk:
            return "—"
        try:
            url = obj.get_absolute_url()
        except NoReverseMatch:  # the public pages are not installed in this build
            return "—"
        return format_html('<a href="{}">{}</a>', url, url)
