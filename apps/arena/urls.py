from django.urls import path

from apps.arena import views

app_name = "arena"

urlpatterns = [
    path("arena/", views.arena, name="arena"),
    path("arena/vote/", views.vote, name="vote"),
    path("arena/exclusions/", views.exclusions, name="exclusions"),
    path("arena/live/", views.live_new, name="live_new"),
    path("arena/live/<str:token>/", views.live_battle, name="live"),
    path("arena/live/<str:token>/answers/", views.live_answers, name="live_answers"),
    path("arena/b/<str:token>/<str:side>/frame/", views.frame, name="frame"),
    path("arena/b/<str:token>/<str:side>/<slug:kind>/", views.media, name="media"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("best-for/<slug:category>/", views.best_for, name="best_for"),
]
