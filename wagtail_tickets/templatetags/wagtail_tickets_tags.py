from django import template
from django.utils.html import format_html

from .. import colours, html_dates

register = template.Library()


@register.filter
def html_datetime(value):
    """For ``<time datetime="…">``: whole seconds and an offset (html_dates)."""
    return html_dates.html_datetime(value)


@register.filter
def text_colour(background):
    """Black or white text for a badge of ``background`` (colours.text_colour)."""
    return colours.text_colour(background)


@register.filter
def badge_colour(colour):
    """``colour`` when it is a #rrggbb colour, else a neutral grey (safe in a style)."""
    return colours.readable(colour)


@register.simple_tag
def field_with_attrs(field):
    """Render a field's widget tied to its help text and errors for screen readers."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if files_dropped(field):
        described.append(f"{field.auto_id}_dropped")
    described += [f"{field.auto_id}_error_{n}" for n in range(1, len(field.errors) + 1)]
    attrs = {}
    if described and field.widget_type not in ("checkboxselectmultiple", "radioselect"):
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def files_dropped(field):
    """True for the file field of a form sent back with errors (forms.DroppedFilesMixin):
    the files must be chosen again."""
    form = field.form
    return field.name == getattr(form, "files_field", None) and form.files_were_dropped


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
