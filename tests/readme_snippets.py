"""The README's install snippets, found by their HTML comments and applied to a site.

README.md marks the code a site owner pastes in "Add it to your Wagtail site":

    <!-- install:settings -->  ```python ... ```  <!-- /install:settings -->
    <!-- install:urls -->      ```python ... ```  <!-- /install:urls -->

The install test applies them to a site made by ``wagtail start``, so the README cannot
drift from what works.
"""

import re
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

SETTINGS_STEP = 'README step 2 ("Add the app ... at the end of your settings")'
URLS_STEP = "README step 3 (the package's URLs in urls.py)"


class SnippetError(AssertionError):
    pass


def snippet(name, readme=README):
    """The code between ``<!-- install:NAME -->`` and ``<!-- /install:NAME -->``."""
    text = Path(readme).read_text(encoding="utf-8")
    pattern = re.compile(
        rf"<!-- install:{name} -->\s*```python\n(?P<code>.*?)^[ \t]*```\s*<!-- /install:{name} -->",
        re.DOTALL | re.MULTILINE,
    )
    found = pattern.findall(text)
    if len(found) != 1:
        raise SnippetError(
            f"README.md must hold exactly one ```python block between <!-- install:{name} --> "
            f"and <!-- /install:{name} -->; found {len(found)}"
        )
    return textwrap.dedent(found[0])


def apply_settings(settings_text, code):
    """Append the settings snippet at the end of a settings module, as the README says."""
    return settings_text.rstrip("\n") + "\n\n# wagtail-tickets (README step 2)\n" + code


def apply_urls(urls_text, code):
    """Put the snippet's paths first in the site's ``urlpatterns`` and its imports on top.

    The snippet shows ``urlpatterns = [ ... ]`` with the lines to add; comments in it
    stand for the site's own paths.
    """
    imports, paths, inside = [], [], False
    for line in code.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if re.match(r"urlpatterns\s*(\+)?=\s*\[", stripped):
            inside = True
            continue
        if inside and stripped == "]":
            inside = False
            continue
        if inside:
            paths.append("    " + stripped)
        elif stripped.startswith(("from ", "import ")):
            imports.append(stripped)
        else:
            raise SnippetError(f"{URLS_STEP}: cannot place this line of the snippet: {line!r}")
    if not paths:
        raise SnippetError(f"{URLS_STEP}: the snippet adds no path to urlpatterns")
    lines = urls_text.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"urlpatterns\s*=\s*\[\s*$", line):
            lines[index + 1 : index + 1] = paths
            break
    else:
        raise SnippetError(f"{URLS_STEP}: the site's urls.py has no 'urlpatterns = [' line")
    return "\n".join(imports + lines) + "\n"
