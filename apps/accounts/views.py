from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts import services
from apps.accounts.forms import AccountDeleteForm
from apps.arena import selectors as arena_selectors
from apps.lab import selectors as lab_selectors


def _private(response):
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def profile(request):
    """The user's vote record and newest Lab runs, read through those apps' selectors."""
    context = {
        "votes": arena_selectors.voter_record(request.user.pk),
        "lab_runs": lab_selectors.runs_of_user(request.user.pk),
    }
    return _private(render(request, "accounts/profile.html", context))


@require_http_methods(["GET", "POST"])
@login_required
def delete(request):
    """Ask for the password, then delete the account and sign out."""
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=request.user)
        logout(request)
        messages.success(request, "Your account is deleted. Your votes stay, anonymised.")
        return redirect("/")
    status = 400 if form.errors else 200
    return _private(render(request, "accounts/delete.html", {"form": form}, status=status))
