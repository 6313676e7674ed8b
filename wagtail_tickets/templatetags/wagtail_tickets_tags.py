from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def field_with_attrs(field):
    """Render a field's widget tied to its help text and errors for screen readers."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    described += [f"{field.auto_id}_error_{n}" for n in range(1, len(field.errors) + 1)]
    attrs = {}
    if described and field.widget_type not in ("checkboxselectmultiple", "radioselect"):
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.simple_tag(takes_context=True)
def subpage_url(context, page, route_name, *args):
    """The URL of one of a routable page's routes (site paths are cached per request)."""
    return page.get_url(context.get("request")) + page.reverse_subpage(
        route_name, args=args or None
    )


@register.simple_tag
def colour_dot(colour):
    return format_html(
        '<span class="wt-dot" style="--wt-dot: {}" aria-hidden="true"></span>', colour
    )
