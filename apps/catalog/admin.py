from django.contrib import admin
from django.db.models import Count

from apps.catalog.models import AIModel, Capability, Gateway, Modality, Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "website", "model_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_model_count=Count("models"))

    @admin.display(description="models", ordering="_model_count")
    def model_count(self, obj):
        return obj._model_count


@admin.register(Capability, Modality)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "base_url", "api_key_env", "max_concurrency", "is_enabled"]
    list_filter = ["kind", "is_enabled"]
    fields = [
        "name",
        "kind",
        "base_url",
        "base_url_env",
        "api_key_env",
        "max_concurrency",
        "requests_per_second",
        "is_enabled",
    ]


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "status", "release_date", "context_length", "gateway"]
    list_filter = ["provider", "status", "capabilities", "modalities", "size_class", "gateway"]
    search_fields = ["name", "slug", "gateway_model_id"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["provider"]
    filter_horizontal = ["capabilities", "modalities"]
    list_select_related = ["provider", "gateway"]
    date_hierarchy = "release_date"
