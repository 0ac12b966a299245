from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from apps.challenges.services import challenge_draft_create
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
        "ttft_ms",
        "finish_reason",
        "public_error",
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

    list_display = [
        "created_at",
        "short_token",
        "short_prompt",
        "output_type",
        "short_owner",
        "is_shared",
    ]
    list_filter = ["kind", "output_type", "is_shared"]
    search_fields = ["token", "prompt", "owner", "ip_hash"]
    date_hierarchy = "created_at"
    fields = [
        "token",
        "created_at",
        "kind",
        "output_type",
        "prompt",
        "owner",
        "user",
        "ip_hash",
        "is_shared",
    ]
    readonly_fields = fields
    inlines = [LabResultInline]
    actions = ["make_challenge_drafts"]

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

    @admin.action(
        description="Make a challenge draft from each selected run",
        permissions=["make_challenge_drafts"],
    )
    def make_challenge_drafts(self, request, queryset):
        """One unpublished challenge per run, with its prompt and output hint, to edit and
        publish in Challenges."""
        for run in queryset:
            challenge = challenge_draft_create(prompt=run.prompt, output_type=run.output_type)
            link = reverse("admin:challenges_challenge_change", args=[challenge.pk])
            self.message_user(
                request,
                format_html('Challenge draft <a href="{}">{}</a> created.', link, challenge.title),
                messages.SUCCESS,
            )

    def has_make_challenge_drafts_permission(self, request):
        return request.user.has_perm("challenges.add_challenge")
