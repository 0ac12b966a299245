from django.urls import path

from apps.compare import views

app_name = "compare"

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:pair>/", views.pair, name="pair"),
    path("<str:pair>/<slug:challenge>/", views.pair_challenge, name="challenge"),
]
