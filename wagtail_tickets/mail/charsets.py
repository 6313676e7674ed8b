"""Text from bytes whose charset is declared wrongly, unknown to Python, or not at all.

Order: the declared charset when it decodes the bytes cleanly (unless it is a Western
single-byte charset hiding Cyrillic, a common fault of Russian mailers), then UTF-8,
then Russian in cp1251 or koi8-r, then (for longer texts) a guess from
charset-normalizer, then Latin-1, which decodes anything.
"""

import codecs
import re

import charset_normalizer

_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
    "x-user-defined": "latin-1",
}
# Declarations that decode any byte and so never fail, even on the wrong text.
_PERMISSIVE = {"latin-1", "iso8859-1", "cp1252", "iso8859-15", "ascii"}
_CYRILLIC = {"cp1251", "koi8-r", "koi8-u", "cp866", "mac-cyrillic", "iso8859-5"}
_GUESS_BYTES = 64 * 1024
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _single_byte(byte):
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([byte]).decode("latin-1")


def _latin1_fallback(error):
    return "".join(_single_byte(b) for b in error.object[error.start : error.end]), error.end


codecs.register_error("wagtail_tickets_latin1", _latin1_fallback)


def lookup(charset):
    """The Python codec name of ``charset``, or None when Python has no such codec."""
    if not charset:
        return None
    name = str(charset).strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _cyrillic(data):
    """cp1251 or koi8-r when ``data`` looks like Russian text in one of them, else None.

    Detectors guess badly on a short subject line; this does not: in Russian text most
    letters are high bytes, and most are lower case, which cp1251 puts at 0xE0-0xFF and
    koi8-r at 0xC0-0xDF.
    """
    sample = data[:_GUESS_BYTES]
    high = sum(1 for byte in sample if byte >= 0xC0)
    ascii_letters = sum(1 for byte in sample if 0x41 <= byte <= 0x7A)
    if high < 3 or high <= ascii_letters:
        return None
    lower_1251 = sum(1 for byte in sample if byte >= 0xE0)
    lower_koi8 = sum(1 for byte in sample if 0xC0 <= byte <= 0xDF)
    if lower_1251 >= 0.6 * high:
        return "cp1251"
    if lower_koi8 >= 0.6 * high:
        return "koi8-r"
    return None


def _guess(data):
    cyrillic = _cyrillic(data)
    if cyrillic:
        return cyrillic
    if len(data) < 512:
        # Too little for a statistical guess to beat Latin-1.
        return None
    try:
        best = charset_normalizer.from_bytes(data[:_GUESS_BYTES]).best()
    except Exception:  # the detector must never stop a message from coming in
        return None
    return lookup(best.encoding) if best is not None else None


def decode(data, declared=None):
    """Decode ``data``; never raises, never returns surrogates."""
    if not data:
        return ""
    codec = lookup(declared)
    if codec is not None:
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            text = None
        if text is not None:
            if codec in _PERMISSIVE and not data.isascii():
                # UTF-8 sent under a Western label: valid UTF-8 is almost never an
                # accident.
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    pass
                guessed = _guess(data)
                if guessed in _CYRILLIC:
                    return data.decode(guessed, errors="replace")
            return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _UTF8_SEQUENCE.search(data[:_GUESS_BYTES]):
        # Mostly UTF-8 with a few stray single-byte characters (pasted text).
        return data.decode("utf-8", errors="wagtail_tickets_latin1")
    guessed = _guess(data)
    if guessed is not None:
        return data.decode(guessed, errors="replace")
    return data.decode("latin-1")


def decode_surrogates(value, declared=None):
    """A header value holding raw 8-bit bytes (as surrogates) → text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode(value.encode("utf-8", "surrogateescape"), declared)
