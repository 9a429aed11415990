"""Search helpers: the pinyin of a Chinese product name, as initials ("nfsq" finds 农夫山泉) and in
full ("kele" finds 可乐), so a phone keyboard without Chinese input still finds it."""
from pypinyin import Style, lazy_pinyin


def pinyin_initials(text: str) -> str:
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore") if p).lower()


def pinyin_full(text: str) -> str:
    """The syllables without tones or spaces ("kekoukele" for 可口可乐); other characters dropped."""
    return "".join(lazy_pinyin(text, errors="ignore")).lower()[:400]


def pinyin_keys(text: str) -> dict[str, str]:
    """Both search columns of a product for its Chinese name: Product(**values, **pinyin_keys(name))."""
    return {"pinyin": pinyin_initials(text)[:100], "pinyin_full": pinyin_full(text)}
