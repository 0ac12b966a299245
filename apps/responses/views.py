from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from apps.pages.seo import meta
from apps.responses import selectors
from apps.responses.frame import FRAME_CSP, frame_document


@require_GET
@xframe_options_sameorigin
@csp_override(FRAME_CSP)
@cache_control(max_age=300)
def frame(request, pk: int):
    """Raw HTML/SVG output for `<iframe sandbox="allow-scripts">`; see apps/responses/frame.py."""
    response = selectors.framed_output(pk)
    page = HttpResponse(
        frame_document(response.content, response.output_type),
        content_type="text/html; charset=utf-8",
    )
    page["X-Content-Type-Options"] = "nosniff"
    page["Referrer-Policy"] = "no-referrer"
    page["Cross-Origin-Resource-Policy"] = "same-origin"
    return page


@require_GET
def detail(request, model: str, challenge: str):
    try:
        response = selectors.response_for_page(model_slug=model, challenge_slug=challenge)
    except Http404:
        context = selectors.missing_response_context(model_slug=model, challenge_slug=challenge)
        return render(request, "responses/missing.html", context, status=404)
    ai_model, chal = response.model, response.challenge
    return render(
        request,
        "responses/detail.html",
        {
            "response": response,
            "others": selectors.other_responses(response),
            "responded_count": selectors.responded_count(chal.pk),
            "dataset_count": selectors.visible_count(),
            "meta": meta(
                f"{ai_model.name} — {chal.title}",
                f"{ai_model.name}'s response to the '{chal.title}' challenge: {chal.prompt}",
                ("Home", "/"),
                ("Models", reverse("catalog:list")),
                (ai_model.name, ai_model.get_absolute_url()),
                (chal.title, ""),
                og_type="article",
            ),
        },
    )
