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
    return (
        runnable_models(LabRun.Kind.LAB)
        .select_related("provider")
        .only("id", "slug", "name", "provider__name")
    )


def runnable_models(kind: str = LabRun.Kind.LAB):
    """Models runs of `kind` may call: active, switched on for it by a curator ("offered in
    the Prompt Lab" or "offered in live battles"), on a usable gateway (as lab_models says).
    Live battles also need a price for every paid model: their spending bound needs one, and
    a refusal must never name a model."""
    usable = Q(gateway__kind=Gateway.Kind.DEMO, gateway__is_enabled=True)
    if settings.LAB_ALLOW_PAID_GATEWAYS:
        paid = Q(gateway_id__in=_keyed_gateway_ids())
        if kind == LabRun.Kind.LIVE:
            paid &= Q(price_input_per_mtok__isnull=False, price_output_per_mtok__isnull=False)
        usable |= paid
    enabled = Q(lab_enabled=True) if kind == LabRun.Kind.LAB else Q(live_battle_enabled=True)
    return AIModel.objects.active().filter(usable, enabled).order_by("name")


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
    return _with_results(LabRun.objects.lab().owned_by(owner, user_id)).filter(token=token).first()


def shared_run(token: str) -> LabRun | None:
    """The run `token` if its maker shared it by link; else None."""
    return _with_results(LabRun.objects.lab().filter(is_shared=True)).filter(token=token).first()


def result_for_viewer(
    token: str, owner: str, result_id: int, user_id: int | None = None
) -> LabResult | None:
    """One result of a run its viewer made or that is shared by link; else None."""
    visible = LabRun.objects.lab().owned_by(owner, user_id) | LabRun.objects.lab().filter(
        is_shared=True
    )
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
        .filter(
            run__in=LabRun.objects.lab().owned_by(owner, user_id), run__token=token, pk=result_id
        )
        .first()
    )


def recent_runs(owner: str, user_id: int | None = None, limit: int = 10) -> list[LabRun]:
    return list(
        LabRun.objects.lab().owned_by(owner, user_id).only("token", "prompt", "created_at")[:limit]
    )


def runs_of_user(user_id: int, limit: int = 20) -> list[LabRun]:
    """A signed-in user's newest runs, for their profile."""
    return list(
        LabRun.objects.lab().filter(user_id=user_id).only("token", "prompt", "created_at")[:limit]
    )
