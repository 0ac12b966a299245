from django.contrib import admin
from django.utils.html import format_html

from apps.responses.models import Response


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "output_type", "source", "collected_at", "is_published"]
    list_filter = ["output_type", "source", "is_published", "model__provider", "challenge"]
    search_fields = ["model__name", "challenge__title"]
    list_select_related = ["model", "challenge"]
    raw_id_fields = ["model", "challenge"]
    date_hierarchy = "collected_at"
    readonly_fields = [
        "public_page",
        "prompt",
        "settings",
        "source",
        "collected_at",
        "tokens_in",
        "tokens_out",
        "latency_ms",
        "ttft_ms",
        "cost_usd",
        "finish_reason",
        "gateway_request_id",
    ]

    @admin.display(description="public page")
    def public_page(self, obj):
        if not obj.pk:
            return "—"
        url = obj.get_absolute_url()
        return format_html('<a href="{}">{}</a>', url, url)
