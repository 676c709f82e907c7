"""Staff edit the published content here, in Thai and English. Nothing here is personal data."""

from django.contrib import admin
from django.db.models import Model
from django.forms import BaseModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from raksa.content import actions
from raksa.content.forms import PictureForm, VideoForm
from raksa.content.models import NewsItem, NewsPicture, Page, RecommendedLink, SiteAppearance, Video


class NewsPictureInline(admin.StackedInline):
    model = NewsPicture
    form = PictureForm
    extra = 1
    fields = ["image", "alt_th", "alt_en", "position"]


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):
    list_display = ["title_th", "title_en", "published_at", "is_published"]
    list_filter = ["is_published"]
    search_fields = ["title_th", "title_en"]
    date_hierarchy = "published_at"
    inlines = [NewsPictureInline]
    fieldsets = [
        (_("Thai"), {"fields": ["title_th", "summary_th", "body_th"]}),
        (_("English"), {"fields": ["title_en", "summary_en", "body_en"]}),
        (None, {"fields": ["published_at", "is_published"]}),
    ]

    def save_related(self, request: HttpRequest, form: BaseModelForm, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        actions.index_news(news=form.instance)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        actions.remove_from_index(source="news", key=str(obj.pk))
        super().delete_model(request, obj)


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    form = VideoForm
    list_display = ["title_th", "title_en", "published_at", "is_published"]
    fieldsets = [
        (_("Thai"), {"fields": ["title_th", "description_th", "alt_th"]}),
        (_("English"), {"fields": ["title_en", "description_en", "alt_en"]}),
        (_("Video"), {"fields": ["image", "file", "embed_url"]}),
        (None, {"fields": ["published_at", "is_published"]}),
    ]


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title_th", "title_en", "slug", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Model, form: BaseModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        actions.index_page(page=obj)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        actions.remove_from_index(source="page", key=obj.slug)  # type: ignore[attr-defined]
        super().delete_model(request, obj)


@admin.register(RecommendedLink)
class RecommendedLinkAdmin(admin.ModelAdmin):
    list_display = ["title_th", "title_en", "url", "position"]
    list_editable = ["position"]


@admin.register(SiteAppearance)
class SiteAppearanceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "mourning_ribbon", "grey_theme"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SiteAppearance.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Model, form: BaseModelForm, change: bool) -> None:
        obj.pk = 1  # the one row
        super().save_model(request, obj, form, change)
