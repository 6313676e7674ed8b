"""Spreadsheet exports that a spreadsheet program will not run as formulas.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which some programs skip before looking) is read as a formula when a CSV file is
opened: a customer who types ``=HYPERLINK(...)`` as a subject would run it on the
agent's machine. Such cells get a leading apostrophe, as OWASP advises; numbers stay
numbers. Every CSV the package writes goes through ``neutralise_cell``: views with
Wagtail's spreadsheet export use ``SafeSpreadsheetExportMixin`` (a test checks that
each one does), other writers call ``neutralise_row``. XLSX cells are written as text
by Wagtail already.
"""

from decimal import Decimal

from wagtail.admin.views.mixins import SpreadsheetExportMixin

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """``value``, with text that would start a formula turned into plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_row(values):
    return [neutralise_cell(value) for value in values]


class SafeSpreadsheetExportMixin(SpreadsheetExportMixin):
    """Wagtail's spreadsheet export, with formula-looking text neutralised in CSV.

    A listing without ``list_export`` exports nothing: Wagtail's generic listings would
    otherwise answer ``?export=csv`` with every row unpaginated (and no columns).
    """

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if not self.list_export:
            self.is_export = False

    def preprocess_field_value(self, field, value, export_format):
        processed = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV and not isinstance(value, int | float | Decimal):
            return neutralise_cell(processed)
        return processed

    def get_heading(self, queryset, field):
        return neutralise_cell(super().get_heading(queryset, field))
