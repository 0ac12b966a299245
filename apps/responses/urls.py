from django.urls import path

from apps.responses import views

app_name = "responses"

urlpatterns = [
    path("images/", views.gallery, {"output_type": "image"}, name="images"),
    path("audio/", views.gallery, {"output_type": "audio"}, name="audio"),
    path("r/<int:pk>/frame/", views.frame, name="frame"),
    path("models/<slug:model>/responses/<slug:challenge>/", views.detail, name="detail"),
]
