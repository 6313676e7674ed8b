"""StreamField blocks of a knowledge-base article."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class CodeBlock(blocks.StructBlock):
    language = blocks.ChoiceBlock(
        label=_("language"),
        required=False,
        choices=[
            ("text", _("Plain text")),
            ("shell", _("Shell")),
            ("python", "Python"),
            ("javascript", "JavaScript"),
            ("html", "HTML"),
            ("css", "CSS"),
            ("sql", "SQL"),
            ("json", "JSON"),
            ("yaml", "YAML"),
        ],
        default="text",
    )
    code = blocks.TextBlock(label=_("code"))

    class Meta:
        icon = "code"
        label = _("Code")
        template = "wagtail_tickets/kb/blocks/code.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("image"))
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=255)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "wagtail_tickets/kb/blocks/image.html"


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        label=_("kind"),
        choices=[("note", _("Note")), ("tip", _("Tip")), ("warning", _("Warning"))],
        default="note",
    )
    text = blocks.RichTextBlock(label=_("text"), features=["bold", "italic", "link", "code"])

    class Meta:
        icon = "warning"
        label = _("Callout")
        template = "wagtail_tickets/kb/blocks/callout.html"


class ArticleBodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        label=_("Heading"), form_classname="title", icon="title", max_length=255
    )
    text = blocks.RichTextBlock(label=_("Text"), icon="pilcrow")
    code = CodeBlock()
    image = ImageBlock()
    callout = CalloutBlock()
