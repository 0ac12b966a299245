"""Lab outputs are untrusted: nothing a model wrote runs in, or is inlined into, our pages."""

from html.parser import HTMLParser

from django.urls import reverse

from apps.lab.models import LabResult
from tests.lab.conftest import lab_run_with

PAYLOAD = (
    '<script>alert("xss")</script><img src=x onerror="alert(1)">'
    '<a href="javascript:alert(2)">click</a><iframe src="https://evil.example"></iframe>'
)


class Elements(HTMLParser):
    """Every element of a page as (tag, attributes), as a browser would build them."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_nothing_executable(html: str) -> None:
    for tag, attrs in Elements(html).found:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not (attrs.get("href") or "").lower().startswith("javascript:"), attrs
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
        if tag == "iframe":
            assert attrs["sandbox"] == "allow-scripts", attrs
            assert attrs["src"].startswith("/lab/"), attrs
        assert tag not in ("img", "object", "embed", "style"), (tag, attrs)


def finish(result, content):
    LabResult.objects.filter(pk=result.pk).update(state="done", content=content)


def test_a_text_result_is_rendered_sanitised(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    finish(run.results.first(), "# Title\n\n" + PAYLOAD + "\n\n[ok](https://example.com)")

    html = client.get(reverse("lab:run", args=[run.token])).content.decode()

    assert "<h1>Title</h1>" in html
    assert_nothing_executable(html)
    # Raw HTML in Markdown is shown as text, escaped.
    assert "&lt;script&gt;alert" in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_an_html_result_is_only_framed_in_a_sandbox_and_shown_as_source(client, demo_models):
    run = lab_run_with(client, demo_models[:2], output_type="html")
    result = run.results.first()
    finish(result, "<!DOCTYPE html><html><body>" + PAYLOAD + "</body></html>")

    html = client.get(reverse("lab:run", args=[run.token])).content.decode()

    frame_url = reverse("lab:frame", args=[run.token, result.pk])
    assert f'sandbox="allow-scripts" src="{frame_url}"' in html
    assert "allow-same-origin" not in html
    assert_nothing_executable(html)


def test_the_frame_endpoint_serves_the_output_under_a_strict_sandboxed_policy(client, demo_models):
    run = lab_run_with(client, demo_models[:2], output_type="svg")
    result = run.results.first()
    finish(result, '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')

    frame = client.get(reverse("lab:frame", args=[run.token, result.pk]))

    assert frame.status_code == 200
    policy = frame["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "sandbox allow-scripts" in policy
    assert "allow-same-origin" not in policy
    assert "connect-src" not in policy  # falls back to default-src 'none': no network
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert frame["Cache-Control"] == "private, no-store"
    assert "<svg" in frame.content.decode()


def test_text_results_and_unfinished_results_have_no_frame(client, demo_models):
    run = lab_run_with(client, demo_models[:2], output_type="text")
    text = run.results.first()
    finish(text, "hello")
    assert client.get(reverse("lab:frame", args=[run.token, text.pk])).status_code == 404

    svg_run = lab_run_with(client, demo_models[:2], output_type="svg")
    pending = svg_run.results.first()
    assert client.get(reverse("lab:frame", args=[svg_run.token, pending.pk])).status_code == 404


def test_the_prompt_is_escaped_on_the_run_page(client, demo_models):
    run = lab_run_with(client, demo_models[:2], prompt=PAYLOAD)
    html = client.get(reverse("lab:run", args=[run.token])).content.decode()
    assert_nothing_executable(html)
    assert "&lt;script&gt;" in html
