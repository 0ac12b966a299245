"""Admin for collection runs, plus the "Collect missing responses" actions on the challenge and
model admins.

Those admins belong to lower apps (challenges, catalog) that must not import collection, so
collection extends them: it replaces their registration with a subclass that adds the action
(`admin.site.unregister` + `register`). Their apps come before collection in INSTALLED_APPS,
and admin autodiscovery follows that order, so they are registered by the time this runs."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from apps.catalog.admin import AIModelAdmin
from apps.catalog.models import AIModel
from apps.challenges.admin import ChallengeAdmin
from apps.challenges.models import Challenge
from apps.collection.models import OPEN_JOB_STATES, CollectionJob, CollectionRun
from apps.collection.services import run_cancel, run_create

PROGRESS_TEMPLATE = "admin/collection/collectionrun/change_form.html#progress"


class FailedJobInline(admin.TabularInline):
    model = CollectionJob
    verbose_name_plural = "failed jobs"
    fields = ["model", "challenge", "attempts", "last_error", "finished_at"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0
    show_change_link = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(state=CollectionJob.State.FAILED)
            .select_related("model", "challenge")
        )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CollectionRun)
class CollectionRunAdmin(admin.ModelAdmin):
    change_form_template = "admin/collection/collectionrun/change_form.html"
    change_list_template = "admin/collection/collectionrun/change_list.html"
    list_display = ["__str__", "state", "progress", "failed", "created_by", "created_at"]
    list_filter = ["state", "scope"]
    list_select_related = ["created_by", "gateway"]
    actions = ["cancel_runs"]
    inlines = [FailedJobInline]
    fields = [
        "scope",
        "state",
        "gateway",
        "created_by",
        "budget_usd",
        "estimated_cost_usd",
        "skipped_over_budget",
        "error",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).with_counts()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewable, never edited by hand: runs change only through their jobs and "Cancel".
        return False

    @admin.display(description="progress")
    def progress(self, obj):
        return f"{obj.n_total - obj.n_pending}/{obj.n_total}"

    @admin.display(description="failed", ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.action(description="Cancel selected runs", permissions=["cancel"])
    def cancel_runs(self, request, queryset):
        for run in queryset.filter(state=CollectionRun.State.RUNNING):
            run_cancel(run)
        self.message_user(request, "Cancelled. Calls already in flight finish.", messages.SUCCESS)

    def has_cancel_permission(self, request):
        return request.user.has_perm("collection.change_collectionrun")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", wrap(self.progress_view), name="collection_run_progress"),
            path("<int:pk>/cancel/", wrap(self.cancel_view), name="collection_run_cancel"),
            path("collect-missing/", wrap(self.collect_missing_view), name="collection_missing"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = get_object_or_404(CollectionRun.objects.with_counts(), pk=object_id)
        extra_context = {**(extra_context or {}), **progress_context(run)}
        return super().change_view(request, object_id, form_url, extra_context)

    def progress_view(self, request, pk):
        """The htmx-polled progress region of the run page."""
        return require_GET(self._progress)(request, pk)

    def _progress(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(CollectionRun.objects.with_counts(), pk=pk)
        return TemplateResponse(request, PROGRESS_TEMPLATE, progress_context(run))

    def cancel_view(self, request, pk):
        return require_POST(self._cancel)(request, pk)

    def _cancel(self, request, pk):
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        run = get_object_or_404(CollectionRun, pk=pk)
        run_cancel(run)
        self.message_user(request, f"{run} cancelled.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:collection_collectionrun_change", args=[pk]))

    def collect_missing_view(self, request):
        return require_POST(self._collect_missing)(request)

    def _collect_missing(self, request):
        if not request.user.has_perm("collection.add_collectionrun"):
            raise PermissionDenied
        run = run_create(scope=CollectionRun.Scope.MISSING, user=request.user)
        return _redirect_to_run(self, request, run)


def progress_context(run: CollectionRun) -> dict:
    finished = run.n_total - run.n_pending
    errors = (
        run.jobs.filter(Q(state=CollectionJob.State.FAILED) | ~Q(last_error=""))
        .exclude(state=CollectionJob.State.DONE)
        .select_related("model", "challenge")
        .order_by("-pk")[:10]
    )
    return {
        "run": run,
        "finished": finished,
        "percent": 100 * finished // run.n_total if run.n_total else 100,
        "recent_errors": errors,
        "polling": run.state == CollectionRun.State.RUNNING,
        "open_states": OPEN_JOB_STATES,
    }


def _redirect_to_run(modeladmin, request, run: CollectionRun):
    if run.state == CollectionRun.State.FAILED:
        modeladmin.message_user(request, f"{run} failed: {run.error}", messages.ERROR)
    else:
        count = run.jobs.count()
        modeladmin.message_user(request, f"{run} started with {count} calls.", messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:collection_collectionrun_change", args=[run.pk]))


@admin.action(description="Collect missing responses")
def collect_missing_for_challenges(modeladmin, request, queryset):
    if not request.user.has_perm("collection.add_collectionrun"):
        raise PermissionDenied
    run = run_create(
        scope=CollectionRun.Scope.CHALLENGE, challenges=list(queryset), user=request.user
    )
    return _redirect_to_run(modeladmin, request, run)


@admin.action(description="Collect missing responses")
def collect_missing_for_models(modeladmin, request, queryset):
    if not request.user.has_perm("collection.add_collectionrun"):
        raise PermissionDenied
    run = run_create(scope=CollectionRun.Scope.MODEL, ai_models=list(queryset), user=request.user)
    return _redirect_to_run(modeladmin, request, run)


class ChallengeCollectAdmin(ChallengeAdmin):
    actions = [*ChallengeAdmin.actions, collect_missing_for_challenges]


class AIModelCollectAdmin(AIModelAdmin):
    actions = [*AIModelAdmin.actions, collect_missing_for_models]


admin.site.unregister(Challenge)
admin.site.register(Challenge, ChallengeCollectAdmin)
admin.site.unregister(AIModel)
admin.site.register(AIModel, AIModelCollectAdmin)
