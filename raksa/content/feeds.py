"""RSS 2.0 and Atom feeds, in the language of their address (/th/… or /en/…).

`SiteFeed` is the base for every feed of the site: the services app subclasses it for activities
(items, item_title, item_description, item_pubdate; `title_text` and `list_url_name`), and gets
the Atom twin with `atom_of(ActivitiesFeed)`.
"""

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Model
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, SyndicationFeed
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from raksa.content.models import NewsItem

FEED_ITEMS = 20


class SiteFeed(Feed):
    title_text: str | Promise = ""
    description_text: str | Promise = ""
    list_url_name = ""

    def title(self) -> str:
        return str(self.title_text)

    def description(self) -> str:
        return str(self.description_text)

    def link(self) -> str:
        return reverse(self.list_url_name)


def atom_of(feed: type[SiteFeed]) -> type[SiteFeed]:
    """The same feed as Atom 1.0 (its description becomes the subtitle)."""

    class AtomFeed(feed):  # type: ignore[valid-type,misc]
        feed_type: type[SyndicationFeed] = Atom1Feed

        def subtitle(self) -> str:
            return self.description()

    AtomFeed.__name__ = AtomFeed.__qualname__ = f"{feed.__name__}Atom"
    return AtomFeed


class NewsFeed(SiteFeed):
    title_text = _("News")
    description_text = _("The latest news of the agency")
    list_url_name = "content:news"

    def items(self) -> list[NewsItem]:
        return list(NewsItem.objects.published()[:FEED_ITEMS])

    def item_title(self, item: NewsItem) -> str:
        return item.title

    def item_description(self, item: NewsItem) -> str:
        return item.summary

    def item_pubdate(self, item: NewsItem) -> datetime:
        return item.published_at

    def item_link(self, item: Model) -> str:
        return item.get_absolute_url()  # type: ignore[attr-defined]


NewsAtomFeed = atom_of(NewsFeed)
