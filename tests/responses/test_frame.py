import pytest
from django.urls import reverse

from tests.factories import ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def frame_url(response):
    return reverse("responses:frame", args=[response.pk])


def test_frame_serves_html_output_verbatim_with_its_own_strict_policy(client):
    content = "<!doctype html><h1>app</h1><script>document.title='ran'</script>"
    response = ResponseFactory(challenge=ChallengeFactory(output_type="html"), content=content)
    page = client.get(frame_url(response))
    assert page.status_code == 200
    assert page.content.decode() == content
    assert page["Content-Type"] == "text/html; charset=utf-8"
    policy = page["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'unsafe-inline'" in policy
    assert "style-src 'unsafe-inline'" in policy
    assert "img-src data:" in policy
    assert "sandbox allow-scripts" in policy
    assert "connect-src" not in policy
    assert "'self'" not in policy.replace("frame-ancestors 'self'", "")


def test_frame_may_be_framed_by_our_pages_only(client):
    response = ResponseFactory(challenge=ChallengeFactory(output_type="svg"), content="<svg/>")
    page = client.get(frame_url(response))
    assert page["X-Frame-Options"] == "SAMEORIGIN"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"]


def test_svg_output_is_wrapped_in_a_minimal_html_document(client):
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'
    response = ResponseFactory(challenge=ChallengeFactory(output_type="svg"), content=svg)
    html = client.get(frame_url(response)).content.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert svg in html


def test_our_own_pages_keep_the_site_policy_and_deny_framing(client):
    response = ResponseFactory(challenge=ChallengeFactory(output_type="html"), content="<p>x</p>")
    page = client.get(response.get_absolute_url())
    assert page["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "unsafe-inline" not in page["Content-Security-Policy"]


def test_frame_url_names_only_the_response_id(client):
    response = ResponseFactory(challenge=ChallengeFactory(output_type="html"), content="<p>x</p>")
    assert frame_url(response) == f"/r/{response.pk}/frame/"


@pytest.mark.parametrize("output_type", ["text", "code", "image"])
def test_frame_refuses_outputs_that_are_not_html_or_svg(client, output_type):
    response = ResponseFactory(challenge=ChallengeFactory(output_type=output_type))
    assert client.get(frame_url(response)).status_code == 404


def test_frame_refuses_unpublished_responses(client):
    response = ResponseFactory(
        challenge=ChallengeFactory(output_type="html"), content="<p>x</p>", is_published=False
    )
    assert client.get(frame_url(response)).status_code == 404


def test_response_page_frames_html_in_a_sandbox_without_same_origin(client):
    response = ResponseFactory(challenge=ChallengeFactory(output_type="html"), content="<p>x</p>")
    html = client.get(response.get_absolute_url()).content.decode()
    frame = f'sandbox="allow-scripts" src="/r/{response.pk}/frame/"'
    assert frame in html
    assert "allow-same-origin" not in html
    assert '<details class="output-source">' in html
