import pytest
from allauth.account.models import EmailAddress

PASSWORD = "correct horse battery 42"


@pytest.fixture
def verified_user(django_user_model):
    """A user whose address is confirmed, so they can sign in."""
    user = django_user_model.objects.create_user(
        username="ada", email="ada@example.com", password=PASSWORD
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user
