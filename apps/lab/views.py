from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)
from django.views.decorators.vary import vary_on_headers

from apps.lab import selectors, services
from apps.lab.forms import MAX_MODELS, MIN_MODELS, LabForm
from apps.responses.frame import frame_response
from rival.web import visitors

OWNER_SESSION_KEY = "lab_owner"
RATE_LIMITED = (
    "You have started a lot of Lab runs recently. Please wait a while before starting another."
)


def _owner(request, create: bool = False) -> str:
    owner = request.session.get(OWNER_SESSION_KEY, "")
    if not owner and create:
        owner = services.owner_new()
        request.session[OWNER_SESSION_KEY] = owner
    return owner


def _user_id(request) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


def _no_store(response: HttpResponse) -> HttpResponse:
    # A run is private to its session: never cached by a browser or a proxy.
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def index(request):
    """The Lab form; a valid POST starts a run and redirects to it."""
    error = ""
    status = 200
    if request.method == "POST":
        form = LabForm(request.POST)
        if form.is_valid():
            owner = _owner(request, create=True)
            hashed_ip = visitors.request_ip_hash(request, purpose="lab")
            if visitors.rate_limited(
                f"lab:session:{owner}", settings.LAB_RATE_LIMIT_SESSION
            ) or visitors.rate_limited(f"lab:ip:{hashed_ip}", settings.LAB_RATE_LIMIT_IP):
                error, status = RATE_LIMITED, 429
            else:
                try:
                    run = services.labrun_create(
                        owner=owner,
                        user_id=_user_id(request),
                        ip_hash=hashed_ip,
                        prompt=form.cleaned_data["prompt"],
                        models=form.cleaned_data["models"],
                        output_type=form.cleaned_data["output_type"],
                    )
                except services.RunRefused as refused:
                    error, status = refused.message, 429
                else:
                    return redirect("lab:run", token=run.token)
        else:
            status = 400
    else:
        form = LabForm()
    context = {
        "form": form,
        "error": error,
        "max_chars": settings.LAB_MAX_PROMPT_CHARS,
        "paid_allowed": settings.LAB_ALLOW_PAID_GATEWAYS,
        "signed_in": request.user.is_authenticated,
        "anon_allowance": settings.LAB_ANON_DAILY_USD > 0,
        "min_models": MIN_MODELS,
        "max_models": MAX_MODELS,
        "recent": selectors.recent_runs(_owner(request), _user_id(request)),
    }
    return _no_store(render(request, "lab/index.html", context, status=status))


def _viewable_run(request, token: str):
    """(run, whether the viewer made it): their own run, or one shared by link; else 404."""
    lab_run = selectors.run_for_owner(token, _owner(request), _user_id(request))
    if lab_run is not None:
        return lab_run, True
    lab_run = selectors.shared_run(token)
    if lab_run is None:
        raise Http404("No such Lab run.")
    return lab_run, False


def _own_result(request, token: str, result_id: int):
    lab_result = selectors.result_for_owner(token, _owner(request), result_id, _user_id(request))
    if lab_result is None:
        raise Http404("No such Lab result.")
    return lab_result


@require_safe
def run(request, token: str):
    """A run and its answers as they stream in; private to its maker unless shared by link
    (then read-only for others), a 404 for anyone else."""
    lab_run, is_owner = _viewable_run(request, token)
    results = list(lab_run.results.all())
    context = {
        "run": lab_run,
        "results": results,
        "is_owner": is_owner,
        "pending": any(not result.is_finished for result in results),
        "share_url": request.build_absolute_uri(reverse("lab:run", args=[token])),
    }
    return _no_store(render(request, "lab/run.html", context))


@require_safe
@vary_on_headers("HX-Request")
def result(request, token: str, result_id: int):
    """One result card, polled by htmx while it streams; a plain visit goes to the run."""
    lab_result = selectors.result_for_viewer(token, _owner(request), result_id, _user_id(request))
    if lab_result is None:
        raise Http404("No such Lab result.")
    if not request.htmx:
        return redirect(f"{reverse('lab:run', args=[token])}#result-{lab_result.pk}")
    is_owner = (
        selectors.result_for_owner(token, _owner(request), result_id, _user_id(request)) is not None
    )
    context = {"run": lab_result.run, "result": lab_result, "is_owner": is_owner}
    return _no_store(render(request, "lab/run.html#result", context))


@require_POST
def stop(request, token: str, result_id: int):
    """The Stop button of one column: its maker only; htmx swaps the card, a form post goes
    back to the run."""
    lab_result = _own_result(request, token, result_id)
    services.labresult_stop(result=lab_result)
    if request.htmx:
        lab_result.refresh_from_db()
        context = {"run": lab_result.run, "result": lab_result, "is_owner": True}
        return _no_store(render(request, "lab/run.html#result", context))
    return redirect(f"{reverse('lab:run', args=[token])}#result-{lab_result.pk}")


@require_POST
def share(request, token: str):
    """Share the run by its link, or make it private again; its maker only."""
    lab_run = selectors.run_for_owner(token, _owner(request), _user_id(request))
    if lab_run is None:
        raise Http404("No such Lab run.")
    shared = request.POST.get("shared") == "1"
    services.labrun_share(run=lab_run, shared=shared)
    messages.success(
        request,
        "Anyone with this page's link can now see this run."
        if shared
        else "This run is private again.",
    )
    return redirect("lab:run", token=token)


@require_safe
def frame(request, token: str, result_id: int):
    """A finished HTML/SVG result for `<iframe sandbox="allow-scripts">`, for whoever may see
    the run; served with the same strict policy as responses:frame."""
    lab_result = selectors.result_for_viewer(token, _owner(request), result_id, _user_id(request))
    if lab_result is None or not lab_result.is_framed or lab_result.state != "done":
        raise Http404("No such Lab output.")
    return frame_response(lab_result.content, lab_result.run.output_type, private=True)
