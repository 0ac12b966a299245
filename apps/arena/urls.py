from django.urls import path

from apps.arena import views

app_name = "arena"

urlpatterns = [
    path("arena/", views.arena, name="arena"),
    path("arena/vote/", views.vote, name="vote"),
    path("arena/exclusions/", views.exclusions, name="exclusions"),
    path("arena/b/<str:token>/<str:side>/frame/", views.frame, name="frame"),
    path("arena/b/<str:token>/<str:side>/<slug:kind>/", views.media, name="media"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("best-for/<slug:category>/", views.best_for, name="best_for"),
]
