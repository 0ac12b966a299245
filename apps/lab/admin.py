from django.contrib import admin

from apps.lab.models import LabResult, LabRun


class LabResultInline(admin.TabularInline):
    model = LabResult
    fields = [
        "model",
        "state",
        "tokens_in",
        "tokens_out",
        "latency_ms",
        "cost_usd",
        "finish_reason",
        "error",
        "content",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LabRun)
class LabRunAdmin(admin.ModelAdmin):
    """Read-only: runs are written by visitors and workers, never by hand."""

    list_display = ["created_at", "short_token", "short_prompt", "output_type", "short_owner"]
    list_filter = ["output_type"]
    search_fields = ["token", "prompt", "owner", "ip_hash"]
    date_hierarchy = "created_at"
    fields = ["token", "created_at", "output_type", "prompt", "owner", "ip_hash"]
    readonly_fields = fields
    inlines = [LabResultInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="token")
    def short_token(self, run):
        return f"{run.token[:8]}…"

    @admin.display(description="prompt")
    def short_prompt(self, run):
        return run.prompt if len(run.prompt) <= 80 else f"{run.prompt[:79]}…"

    @admin.display(description="session")
    def short_owner(self, run):
        return run.owner[:10]
