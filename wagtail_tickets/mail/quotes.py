"""Cutting quoted text and signatures from replies, with mail-parser-reply.

mail-parser-reply knows many languages but not Russian; its language table is its
extension point, so the Russian client headers are added to it here: Gmail
("пн, 3 мар. 2025 г. в 10:00, Имя <a@b.ru>:"), Yandex and Mail.ru ("… от Имя <a@b.ru>:"),
Thunderbird ("Имя пишет:"), Apple Mail ("… написал(а):") and Outlook
("-----Исходное сообщение-----", "От: … Отправлено: …").

The parser strips every line; the kept part is taken from the original text instead, so
indentation (logs, code) survives.
"""

from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

_Q = QUOTED_MATCH_INCLUDE
RUSSIAN = {
    "wrote_header": (
        r"^("
        + _Q
        + r"(?:"
        # Gmail, Yandex, Mail.ru: a date and time, then the sender's address and a colon.
        + r".{0,120}\d{1,2}:\d{2}.{0,120}<[^<>\s]+@[^<>\s]+>\s?:"
        # Thunderbird, Apple Mail and others: "<someone> пишет:" / "написал(а):".
        + r"|.{0,200}\s(?:пишет|писал|написал|написала|написал\(а\))\s?:"
        + r"))$"
    ),
    "from_header": (
        r"((?:(?:^|\n|\n"
        + _Q
        + r")[* ]*(?:От|Отправлено|Кому|Тема|Дата|Копия|Организация):[ *]*(?:\s{,2}).*){2,}"
        + r"(?:\n.*){,1})"
    ),
    "disclaimers": ["Конфиденциально:", "Внимание:"],
    "signatures": [
        "С уважением",
        "С наилучшими пожеланиями",
        "Всего доброго",
        "Всего наилучшего",
    ],
    "sent_from": "Отправлено с|Отправлено из",
}
# The Outlook separator in Russian, where English has "-----Original Message-----".
RUSSIAN_SEPARATOR = r"^-{5,} ?Исходное сообщение ?-{5,}$"
RUSSIAN["wrote_header"] = RUSSIAN["wrote_header"][:-1] + "|(" + RUSSIAN_SEPARATOR + ")"

MAIL_LANGUAGES.setdefault("ru", RUSSIAN)

LANGUAGES = ["en", "ru", "de", "fr", "es", "it", "nl", "pl"]
# Longer texts are kept whole: the parser's patterns are not meant for megabytes.
_MAX_CHARS = 200_000


def latest_reply(text):
    """The new part of a reply: ``text`` without the quoted mail and the signature."""
    if not text or len(text) > _MAX_CHARS:
        return text
    try:
        message = EmailReplyParser(languages=LANGUAGES).read(text)
    except Exception:  # a parser failure keeps the whole text, never loses it
        return text
    if not message.replies:
        return text
    cut = message.replies[0].body
    if not cut.strip():
        return text
    return _from_original(text, cut)


def _from_original(text, cut):
    """The original lines that the stripped ``cut`` is made of."""
    original = text.replace("\r\n", "\n").split("\n")
    stripped = [line.strip() for line in original]
    wanted = cut.split("\n")
    start = 0
    while start < len(stripped) and not stripped[start]:
        start += 1
    if stripped[start : start + len(wanted)] != [line.strip() for line in wanted]:
        return cut
    return "\n".join(line.rstrip() for line in original[start : start + len(wanted)])
