import re

import pytest

from apps.arena.models import Vote

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery 42"
NEW_PASSWORD = "a brand new staple 1815"


def _link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def _sign_out(page):
    page.locator("summary", has_text=EMAIL).click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").wait_for()


def _sign_in(page, password):
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password:", exact=True).fill(password)
    page.locator("main").get_by_role("button", name="Sign In").click()


def test_sign_up_verify_sign_out_sign_in_and_reset_the_password(live_server, page, mailoutbox):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    assert page.get_by_role("link", name="Sign in").is_visible(), "not signed in before verifying"

    assert len(mailoutbox) == 1 and mailoutbox[0].to == [EMAIL]
    page.goto(_link_in(mailoutbox[0]))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Your profile").wait_for()
    assert page.locator("summary", has_text=EMAIL).is_visible()

    _sign_out(page)
    _sign_in(page, PASSWORD)
    page.get_by_role("heading", name="Your profile").wait_for()
    _sign_out(page)

    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(EMAIL)
    page.locator("main").get_by_role("button", name="Reset My Password").click()
    page.get_by_role("heading", name="Password Reset").wait_for()
    assert len(mailoutbox) == 2
    page.goto(_link_in(mailoutbox[1]))
    page.get_by_label("New Password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again):").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change Password").click()
    page.get_by_text("Your password is now changed.").wait_for()

    _sign_in(page, PASSWORD)
    page.get_by_text("The email address and/or password you specified are not correct.").wait_for()
    _sign_in(page, NEW_PASSWORD)
    page.get_by_role("heading", name="Your profile").wait_for()
    assert page.page_errors == []


def test_a_signed_in_voter_casts_a_verified_vote_seen_on_the_profile(
    live_server, page, mailoutbox, django_user_model
):
    from allauth.account.models import EmailAddress

    from tests.factories import ResponseFactory

    first = ResponseFactory(blind=True)
    ResponseFactory(challenge=first.challenge, blind=True)
    user = django_user_model.objects.create_user(username="ada", email=EMAIL, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)

    page.goto(live_server.url + "/")
    _sign_in(page, PASSWORD)
    page.get_by_role("heading", name="Your profile").wait_for()
    page.goto(live_server.url + "/arena/")
    page.get_by_role("button", name=re.compile("A is better")).click()
    page.get_by_role("heading", name=re.compile("You voted")).wait_for()

    vote = Vote.objects.get()
    assert vote.user == user and vote.is_verified
    page.goto(live_server.url + "/accounts/profile/")
    votes_cast = page.locator("dt", has_text="Votes cast").locator("xpath=following-sibling::dd")
    assert votes_cast.inner_text() == "1"
