from django.urls import path

from apps.catalog import views

app_name = "catalog"

urlpatterns = [
    path("models/", views.model_list, name="list"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("creators/", views.creator_list, name="creators"),
    path("creators/<slug:slug>/", views.creator_detail, name="creator"),
    path("graveyard/", views.graveyard, name="graveyard"),
]
