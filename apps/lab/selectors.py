"""Reads of the Prompt Lab: which models it may call, and a session's runs."""

from django.conf import settings
from django.db.models import Prefetch, Q

from apps.catalog.models import AIModel, Gateway
from apps.gateways.clients import gateway_is_ready
from apps.lab.models import LabResult, LabRun


def _keyed_gateway_ids() -> list[int]:
    """Paid gateways that can be called: their key is set (or they need none), with a URL."""
    return [
        gateway.pk
        for gateway in Gateway.objects.filter(is_enabled=True).exclude(kind=Gateway.Kind.DEMO)
        if gateway_is_ready(gateway)
    ]


def lab_models():
    """Models the Lab may call: active, enabled for the Lab by a curator, on an enabled gateway
    that costs nothing — the demo gateway — unless LAB_ALLOW_PAID_GATEWAYS is on, when gateways
    with their key set count too."""
    usable = Q(gateway__kind=Gateway.Kind.DEMO, gateway__is_enabled=True)
    if settings.LAB_ALLOW_PAID_GATEWAYS:
        usable |= Q(gateway_id__in=_keyed_gateway_ids())
    return (
        AIModel.objects.active()
        .filter(usable, lab_enabled=True)
        .select_related("provider")
        .only("id", "slug", "name", "provider__name")
        .order_by("name")
    )


def _with_results(runs):
    return runs.prefetch_related(
        Prefetch(
            "results",
            queryset=LabResult.objects.select_related("model").only(
                *(f.name for f in LabResult._meta.concrete_fields if f.name != "model"),
                "model__id",
                "model__slug",
                "model__name",
            ),
        )
    )


def run_for_owner(token: str, owner: str, user_id: int | None = None) -> LabRun | None:
    """The run `token` with its results and their models, if `owner` (a browser session) or
    the user `user_id` made it; else None."""
    return _with_results(LabRun.objects.owned_by(owner, user_id)).filter(token=token).first()


def shared_run(token: str) -> LabRun | None:
    """The run `token` if its maker shared it by link; else None."""
    return _with_results(LabRun.objects.filter(is_shared=True)).filter(token=token).first()


def result_for_viewer(
    token: str, owner: str, result_id: int, user_id: int | None = None
) -> LabResult | None:
    """One result of a run its viewer made or that is shared by link; else None."""
    visible = LabRun.objects.owned_by(owner, user_id) | LabRun.objects.filter(is_shared=True)
    return (
        LabResult.objects.select_related("run", "model")
        .filter(run__in=visible, run__token=token, pk=result_id)
        .first()
    )


def result_for_owner(
    token: str, owner: str, result_id: int, user_id: int | None = None
) -> LabResult | None:
    return (
        LabResult.objects.select_related("run", "model")
        .filter(run__in=LabRun.objects.owned_by(owner, user_id), run__token=token, pk=result_id)
        .first()
    )


def recent_runs(owner: str, user_id: int | None = None, limit: int = 10) -> list[LabRun]:
    return list(
        LabRun.objects.owned_by(owner, user_id).only("token", "prompt", "created_at")[:limit]
    )


def runs_of_user(user_id: int, limit: int = 20) -> list[LabRun]:
    """A signed-in user's newest runs, for their profile."""
    return list(
        LabRun.objects.filter(user_id=user_id).only("token", "prompt", "created_at")[:limit]
    )
