"""Search helpers: pinyin initials so "nfsq" finds 农夫山泉 on a phone keyboard."""
from pypinyin import Style, lazy_pinyin


def pinyin_initials(text: str) -> str:
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore") if p).lower()
