"""Normalised subject terms: the key that groups tickets and articles on the same topic.

"Can't log in to my account!" and "Logging in to your account" fall into one group in
the frequent-requests report, and an article titled like the second counts as covering
the first. It is a coarse key: "login" and "log in" still differ. A search engine would
stem properly; this key only has to be stable, cheap and storable in an indexed column
so that grouping happens in SQL. It lowercases,
keeps words of letters, drops stop words (English and Russian) and short words, strips
common endings and keeps a fixed-length stem, then sorts the distinct stems.
"""

import re

MAX_TERMS = 4
STEM_LENGTH = 6
KEY_LENGTH = 120

WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)

STOP_WORDS = frozenset(
    """
    a about after again all am an and any are as at be been before being but by can cannot
    cant could did didn do does doesn don dont for from get gets getting got had has have
    having help how i if in into is isn it its me my no not now of on or our out please
    problem question re fw fwd so some still than that the their them then there these this
    to too up urgent us was wasn we were what when where which while who why will with won
    wont would you your issue hello hi thanks thank
    а без бы в во вам вас во вот все всё вы где да для до если есть ещё еще же за и из или
    им их к как ко когда кто ли либо мне мой моя мои мы на над не нет ни но ну о об от по
    под при про с со так там то тоже только у уже хочу чем что чтобы эта это этот я
    можно нельзя помогите пожалуйста проблема вопрос здравствуйте спасибо срочно не могу
    могу может
    """.split()
)

# Longest first, so "ations" wins over "s".
ENDINGS = sorted(
    """
    ations ation ings ing edly ed ies es s ly ment ments ness
    иями ями ами ого его ому ему ыми ими ией ия ие ий ый ой ая яя ое ее ые ых их ов ев ам ям
    ах ях ом ем ую юю ть ться ется ится ет ит ют ат ят ешь ишь ла ло ли л а я о е ы и у ю ь
    """.split(),
    key=len,
    reverse=True,
)


def stem(word):
    for ending in ENDINGS:
        if len(word) - len(ending) >= 3 and word.endswith(ending):
            word = word[: -len(ending)]
            # "logging" -> "logg" -> "log", "stopped" -> "stopp" -> "stop"
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouyаеёиоуыэюя":
                word = word[:-1]
            break
    return word[:STEM_LENGTH]


def terms(text):
    """The distinct stems of the meaningful words of ``text``, in order of appearance."""
    seen = []
    for word in WORD_RE.findall((text or "").lower().replace("ё", "е")):
        if len(word) < 3 or word in STOP_WORDS:
            continue
        stemmed = stem(word)
        if stemmed not in seen:
            seen.append(stemmed)
    return seen


def topic_key(text):
    """A short, sorted key of the first terms of ``text``; "" when nothing is left."""
    return " ".join(sorted(terms(text)[:MAX_TERMS]))[:KEY_LENGTH]
