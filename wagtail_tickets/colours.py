"""Colour contrast after WCAG 2.2: the text colour of every status and priority badge,
on the desk and on the customer's pages, and the check behind the editor's hint.

A badge's text is black or white, whichever contrasts more with the manager's colour.
Between them, black and white reach at least 4.58:1 on any ``#rrggbb`` colour (the two
ratios are equal where the background's luminance is about 0.179), so a badge's text
always meets WCAG's AA level for normal text; what a manager's choice still changes is
how far above it the badge stays.
"""

from functools import lru_cache

BLACK = "#000000"
WHITE = "#ffffff"
#: WCAG 2.2 AA, normal text (badges are small, bold text).
AA_NORMAL_TEXT = 4.5
#: A colour that cannot be read gets the neutral grey the fields default to.
FALLBACK = "#6b7280"


def parse_hex(colour):
    """``#rrggbb`` (or ``rrggbb``) as three 0–255 integers; ValueError otherwise."""
    value = (colour or "").strip().lstrip("#")
    if len(value) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def _linear(channel):
    srgb = channel / 255
    # The WCAG 2.x formula (0.04045 is sRGB's own threshold; WCAG's 0.03928 gives the
    # same result for every 8-bit value).
    return srgb / 12.92 if srgb <= 0.04045 else ((srgb + 0.055) / 1.055) ** 2.4


def relative_luminance(colour):
    red, green, blue = (_linear(c) for c in parse_hex(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first, second):
    """The WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable(colour):
    """``colour`` if it is a ``#rrggbb`` colour, else the fallback grey."""
    try:
        parse_hex(colour)
    except (TypeError, ValueError):
        return FALLBACK
    return "#" + colour.strip().lstrip("#").lower()


@lru_cache(maxsize=512)
def text_colour(background):
    """Black or white: the one with the higher contrast on ``background``.

    Cached: every badge of a page asks, for the same few colours.
    """
    background = readable(background)
    if contrast_ratio(background, BLACK) >= contrast_ratio(background, WHITE):
        return BLACK
    return WHITE


def badge_contrast(background):
    """The contrast ratio of a badge's text on ``background``."""
    background = readable(background)
    return contrast_ratio(background, text_colour(background))


def meets_aa(background):
    return badge_contrast(background) >= AA_NORMAL_TEXT
