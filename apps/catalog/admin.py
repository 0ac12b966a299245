from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.template.response import TemplateResponse

from apps.catalog.models import AIModel, Capability, Gateway, Modality, Provider
from apps.catalog.services import model_retire


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


class GatewayForm(forms.ModelForm):
    class Meta:
        model = Gateway
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
        help_texts = {
            "api_key_env": (
                "The NAME of the environment variable that holds the API key, ending in "
                "_API_KEY, e.g. OPENROUTER_API_KEY. Never paste a key here: keys live only in "
                "the server's environment and are never stored, logged or shown."
            ),
        }

    def clean_api_key_env(self):
        return self.cleaned_data["api_key_env"].strip()

    def clean_base_url_env(self):
        return self.cleaned_data["base_url_env"].strip()


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    form = GatewayForm
    list_display = [
        "name",
        "kind",
        "base_url",
        "api_key_env",
        "key_status",
        "max_concurrency",
        "requests_per_second",
        "is_enabled",
    ]
    list_filter = ["kind", "is_enabled"]
    search_fields = ["name", "base_url"]
    fields = [
        "name",
        "kind",
        "base_url",
        "base_url_env",
        "api_key_env",
        "key_status",
        "max_concurrency",
        "requests_per_second",
        "is_enabled",
    ]
    readonly_fields = ["key_status"]

    # A gateway decides where a server-held key is sent: only superusers edit them.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="key in environment")
    def key_status(self, obj):
        """Whether the variable is set — never its value, and only for allowed key names."""
        if not obj.api_key_env:
            return "not needed" if obj.kind == Gateway.Kind.DEMO else "no variable named"
        return "set" if obj.key_is_set() else f"missing: set {obj.api_key_env}"


class RetireForm(forms.Form):
    retired_on = forms.DateField(
        label="Retired on",
        initial=date.today,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date the graveyard shows.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Why it was retired, e.g. 'Removed from the provider's API; replaced by …'.",
    )


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "provider",
        "status",
        "release_date",
        "context_length",
        "price_input_per_mtok",
        "price_output_per_mtok",
        "gateway",
        "lab_enabled",
        "live_battle_enabled",
        "retired_on",
    ]
    list_filter = [
        "provider",
        "status",
        "capabilities",
        "modalities",
        "size_class",
        "gateway",
        "lab_enabled",
        "live_battle_enabled",
    ]
    search_fields = ["name", "slug", "gateway_model_id", "provider__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["provider"]
    filter_horizontal = ["capabilities", "modalities"]
    list_select_related = ["provider", "gateway"]
    date_hierarchy = "release_date"
    readonly_fields = ["created_at", "updated_at"]
    actions = ["retire"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "provider", "description", "url", "featured"]}),
        (
            "Facts",
            {
                "fields": [
                    "release_date",
                    "size_class",
                    ("parameters_total", "parameters_active"),
                    "parameters_note",
                    "context_length",
                    ("price_input_per_mtok", "price_output_per_mtok"),
                    "capabilities",
                    "modalities",
                ]
            },
        ),
        (
            "Access",
            {"fields": ["gateway", "gateway_model_id", "lab_enabled", "live_battle_enabled"]},
        ),
        ("Status", {"fields": ["status", "retired_on", "retirement_reason"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    @admin.action(description="Retire selected models…", permissions=["change"])
    def retire(self, request, queryset):
        """Ask for a date and a reason on an intermediate page, then retire the models."""
        if "apply" in request.POST:
            form = RetireForm(request.POST)
            if form.is_valid():
                for model in queryset:
                    model_retire(
                        model=model,
                        retired_on=form.cleaned_data["retired_on"],
                        reason=form.cleaned_data["reason"],
                    )
                self.message_user(request, f"Retired {len(queryset)} model(s).", messages.SUCCESS)
                return None
        else:
            form = RetireForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Retire models",
            "opts": self.model._meta,
            "models": queryset.select_related("provider"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/catalog/aimodel/retire.html", context)
