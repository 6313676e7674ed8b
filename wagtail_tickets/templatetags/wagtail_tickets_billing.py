"""Money and paid support in templates: ``{{ amount|money }}``."""

from django import template

from ..money import format_money

register = template.Library()


@register.filter
def money(amount):
    """An amount in the site's currency, written the way the active language writes it."""
    return format_money(amount)


@register.filter
def signed_money(amount):
    """As ``money``, with a plus sign on credits."""
    if amount is None or amount == "":
        return ""
    text = format_money(amount)
    return f"+{text}" if amount > 0 else text


@register.filter
def signed(number):
    """An integer with its sign: +3, -1, 0."""
    if number is None or number == "":
        return ""
    return f"+{number}" if number > 0 else str(number)


@register.inclusion_tag("wagtail_tickets/admin/billing/ticket_panel.html", takes_context=True)
def ticket_billing_panel(context, ticket):
    """The ticket screen's "Paid support" panel (admin/billing/ticket_panel.py)."""
    from ..admin.billing.ticket_panel import panel_context

    return panel_context(context["request"], ticket)
