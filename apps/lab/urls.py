from django.urls import path

from apps.lab import views

app_name = "lab"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:token>/", views.run, name="run"),
    path("<slug:token>/results/<int:result_id>/", views.result, name="result"),
    path("<slug:token>/share/", views.share, name="share"),
    path("<slug:token>/results/<int:result_id>/stop/", views.stop, name="stop"),
    path("<slug:token>/results/<int:result_id>/frame/", views.frame, name="frame"),
]
