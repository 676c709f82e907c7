from django.urls import path
from django.views.decorators.http import require_safe

from raksa.content import feeds, views
from raksa.content.models import Page

app_name = "content"
urlpatterns = [
    path("news/", views.news_list, name="news"),
    path("news/<int:pk>/", views.news_detail, name="news_detail"),
    path("news/rss.xml", require_safe(feeds.NewsFeed()), name="news_rss"),
    path("news/atom.xml", require_safe(feeds.NewsAtomFeed()), name="news_atom"),
    path("videos/", views.video_list, name="videos"),
    path("videos/<int:pk>/", views.video_detail, name="video_detail"),
    path("videos/<int:pk>/play/", views.video_play, name="video_play"),
    path("website-policy/", views.page, {"slug": Page.WEBSITE_POLICY}, name="website_policy"),
    path("security-policy/", views.page, {"slug": Page.SECURITY_POLICY}, name="security_policy"),
    path("about/", views.page, {"slug": Page.ABOUT}, name="about"),
    path("pages/<slug:slug>/", views.page, name="page"),
    path("agencies/", views.agencies, name="agencies"),
    path("links/", views.links, name="links"),
    path("search/", views.search_results, name="search"),
]
