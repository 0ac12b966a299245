from functools import partial

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from apps.catalog import selectors as catalog
from apps.challenges.models import OutputType
from apps.responses import selectors
from apps.responses.frame import frame_response
from rival.web.htmx import partial_or_page
from rival.web.pagecache import public_page
from rival.web.seo import meta


@require_safe
def frame(request, pk: int):
    """Raw HTML/SVG output for `<iframe sandbox="allow-scripts">`; see apps/responses/frame.py."""
    response = selectors.framed_output(pk)
    return frame_response(response.content, response.output_type, private=False)


@public_page()
@require_safe
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
            # Called by the template only when its "About" region is not cached.
            "tags": partial(catalog.model_tags, ai_model),
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


GALLERIES = {
    OutputType.IMAGE: (
        "Image generation",
        "The same image prompts sent to every image model, their pictures side by side.",
    ),
    OutputType.AUDIO: (
        "Audio comparison",
        "The same speech prompts sent to every audio model: listen to each side by side.",
    ),
}


@require_safe
def gallery(request, output_type: str):
    title, description = GALLERIES[output_type]
    models = selectors.media_models(output_type)
    chosen = request.GET.get("model", "")
    if chosen not in {slug for slug, _ in models}:
        chosen = ""
    return render(
        request,
        partial_or_page(request, "responses/gallery.html", "results"),
        {
            "output_type": output_type,
            "title": title,
            "description": description,
            "models": models,
            "chosen": chosen,
            "challenges": selectors.media_gallery(output_type, model_slug=chosen),
            "meta": meta(title, description, ("Home", "/"), (title, "")),
        },
    )
