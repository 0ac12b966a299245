from django.urls import path

from apps.challenges import views

app_name = "challenges"

urlpatterns = [
    path("challenges/", views.challenge_list, name="list"),
    path("challenges/<slug:slug>/", views.challenge_detail, name="detail"),
]
