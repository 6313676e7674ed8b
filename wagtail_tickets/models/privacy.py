"""Page privacy read in one query, for the package's page types."""

from django.db import connection
from django.db.models.expressions import RawSQL
from wagtail.models import Page, PageViewRestriction


class ViewRestrictionsInOneQuery:
    """``get_view_restrictions`` as Wagtail defines it, in one statement.

    Wagtail checks it before serving every page: it reads the page's ancestors, follows
    each alias to its source page in Python, then reads the restrictions (two queries
    or more). Here the same set is one query: a recursive subquery follows alias chains
    of any length, so a private section reached through an alias stays private.
    """

    def get_view_restrictions(self):
        steplen = Page.steplen
        paths = [self.path[:end] for end in range(steplen, len(self.path) + 1, steplen)]
        table = connection.ops.quote_name(Page._meta.db_table)
        placeholders = ", ".join(["%s"] * len(paths))
        # The page, its ancestors, and (recursively) the pages they are aliases of; the
        # ones that are not aliases are where a restriction can apply.
        sources = RawSQL(
            "WITH RECURSIVE chain(id, alias_of_id) AS ("
            f"SELECT id, alias_of_id FROM {table} WHERE path IN ({placeholders}) "
            f"UNION SELECT p.id, p.alias_of_id FROM {table} p "
            "JOIN chain ON p.id = chain.alias_of_id"
            ") SELECT id FROM chain WHERE alias_of_id IS NULL",
            paths,
        )
        return PageViewRestriction.objects.filter(page_id__in=sources)
