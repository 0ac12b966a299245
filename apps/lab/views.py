from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe
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
                run = services.labrun_create(
                    owner=owner,
                    ip_hash=hashed_ip,
                    prompt=form.cleaned_data["prompt"],
                    models=form.cleaned_data["models"],
                    output_type=form.cleaned_data["output_type"],
                )
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
        "min_models": MIN_MODELS,
        "max_models": MAX_MODELS,
        "recent": selectors.recent_runs(_owner(request)),
    }
    return _no_store(render(request, "lab/index.html", context, status=status))


@require_safe
def run(request, token: str):
    """A run and its results as they arrive; another session's run is a 404."""
    lab_run = selectors.run_for_owner(token, _owner(request))
    if lab_run is None:
        raise Http404("No such Lab run.")
    results = list(lab_run.results.all())
    context = {
        "run": lab_run,
        "results": results,
        "pending": any(not result.is_finished for result in results),
    }
    return _no_store(render(request, "lab/run.html", context))


@require_safe
@vary_on_headers("HX-Request")
def result(request, token: str, result_id: int):
    """One result card, polled by htmx while it is pending; a plain visit goes to the run."""
    lab_result = selectors.result_for_owner(token, _owner(request), result_id)
    if lab_result is None:
        raise Http404("No such Lab result.")
    if not request.htmx:
        return redirect(f"{reverse('lab:run', args=[token])}#result-{lab_result.pk}")
    return _no_store(
        render(request, "lab/run.html#result", {"run": lab_result.run, "result": lab_result})
    )


@require_safe
def frame(request, token: str, result_id: int):
    """A finished HTML/SVG result for `<iframe sandbox="allow-scripts">`, for its own session
    only; served with the same strict policy as responses:frame."""
    lab_result = selectors.result_for_owner(token, _owner(request), result_id)
    if lab_result is None or not lab_result.is_framed or lab_result.state != "done":
        raise Http404("No such Lab output.")
    return frame_response(lab_result.content, lab_result.run.output_type, private=True)
