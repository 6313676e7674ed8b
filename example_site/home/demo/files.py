"""Small attachments made in memory, shaped like what customers really send."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from wagtail_tickets.attachments import ValidatedFile


def screenshot(rng, name="screenshot.png"):
    """A fake browser window with an error banner, as a PNG."""
    image = Image.new("RGB", (480, 300), "#f3f4f6")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 479, 28), fill="#d1d5db")
    for x in (12, 28, 44):
        draw.ellipse((x - 5, 9, x + 5, 19), fill="#9ca3af")
    draw.rectangle((20, 50, 460, 90), fill="#fee2e2", outline="#dc2626")
    draw.text((32, 62), "Error: something went wrong", fill="#991b1b")
    # Varying grey blocks stand in for page content and make each file distinct.
    for row in range(5):
        width = rng.randint(180, 420)
        draw.rectangle((20, 110 + row * 34, 20 + width, 126 + row * 34), fill="#e5e7eb")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return _wrap(buffer.getvalue(), name, "image/png")


def console_log(rng, when, name="console.log"):
    """A browser console log as plain text."""
    lines = [
        f"[{when:%Y-%m-%d %H:%M:%S}] GET /checkout/ 200",
        f"[{when:%Y-%m-%d %H:%M:%S}] Uncaught TypeError: cart.items is undefined",
        "    at renderSummary (app.js:1042:17)",
        "    at HTMLButtonElement.onclick (checkout/:1:1)",
        f"[{when:%Y-%m-%d %H:%M:%S}] POST /api/orders/ {rng.choice([500, 502, 504])}",
    ]
    return _wrap(("\n".join(lines) + "\n").encode(), name, "text/plain")


def _wrap(data, name, content_type):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return ValidatedFile(upload=upload, name=name, content_type=content_type)
