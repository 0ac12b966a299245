import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/models/", "/healthz", "/no-such-page/"])
def test_every_page_sends_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy.split(", ")


def test_https_responses_carry_hsts_and_plain_http_ones_do_not(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    secure = client.get("/", secure=True)
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/").headers
