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
    """Models the Lab may call: active, on an enabled gateway that costs nothing — the demo
    gateway — unless LAB_ALLOW_PAID_GATEWAYS is on, when gateways with their key set count too."""
    usable = Q(gateway__kind=Gateway.Kind.DEMO, gateway__is_enabled=True)
    if settings.LAB_ALLOW_PAID_GATEWAYS:
        usable |= Q(gateway_id__in=_keyed_gateway_ids())
    return (
        AIModel.objects.active()
        .filter(usable)
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


def run_for_owner(token: str, owner: str) -> LabRun | None:
    """The run `token` with its results and their models, if `owner` made it; else None."""
    return _with_results(LabRun.objects.owned_by(owner)).filter(token=token).first()


def result_for_owner(token: str, owner: str, result_id: int) -> LabResult | None:
    return (
        LabResult.objects.select_related("run", "model")
        .filter(run__token=token, run__owner=owner, pk=result_id)
        .exclude(run__owner="")
        .first()
    )


def recent_runs(owner: str, limit: int = 10) -> list[LabRun]:
    return list(LabRun.objects.owned_by(owner).only("token", "prompt", "created_at")[:limit])
