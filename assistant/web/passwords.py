"""Password rules: long enough, not common, not guessable from the account.

Length and kinds follow KISA's 패스워드 선택 및 이용 안내서 (10자 이상, or 8자 이상 with three kinds of
characters). Beyond that the check refuses what attackers try first: passwords on the common lists
(including Korean habits — keyboard walks like ``1q2w3e4r``, Korean words typed with the keyboard in
English mode like ``dkssud`` for 안녕, year and season suffixes), one character repeated, plain sequences,
and the user name itself. A password that is a common word with digits or symbols stuck on
(``Password2026!``) is refused too.
"""

from __future__ import annotations

import re
import unicodedata

MIN_LENGTH = 10
MIN_LENGTH_THREE_KINDS = 8

#: bases attackers try first, compared after lower-casing and stripping leading/trailing digits and symbols
COMMON = frozenset("""
password passw0rd p@ssword p@ssw0rd pass admin administrator root user guest test tester welcome login
letmein master secret qwerty qwertyuiop qwer qwerasdf qwerasdfzxcv asdf asdfgh asdfghjkl zxcv zxcvbnm
abc abcd abcde abcdef abcdefg abcdefgh iloveyou love lover princess monkey dragon football baseball soccer
superman batman sunshine shadow michael jordan trustno hello hello world computer internet samsung
lg naver daum kakao google apple korea seoul busan daegu incheon gwangju daejeon ulsan sejong
government gov minwon gongmuwon office company manager system server changeme default temp temporary
summer winter spring autumn fall january december
dkssud dkssudgktpdy tkfkd tkfkdgo rjatkd dlstkd gksrmf rhdanwjs qlalfqjsgh qlqjs sorhd dbwj
""".split())

#: keyboard walks and number patterns people type (checked as substrings of the lower-cased password)
WALKS = ("1q2w3e4r", "1q2w3e", "q1w2e3r4", "qwe123", "asd123", "zxc123", "1qaz2wsx", "qazwsx", "!qaz@wsx",
         "1234qwer", "qwer1234", "asdf1234", "zxcv1234", "!@#$", "1234567", "7654321", "0000", "1111", "1004")


def _kinds(password: str) -> int:
    return sum((any(c.isalpha() for c in password), any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password)))


def _is_sequence(text: str) -> bool:
    if len(text) < 4:
        return False
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1}, {0})


def password_problem(password: str, username: str = "") -> str:
    """Why this password may not be used ("" when it may)."""
    pw = unicodedata.normalize("NFC", password)
    if len(pw) > 200:
        return "비밀번호는 200자 이하여야 합니다."
    if len(pw) < MIN_LENGTH_THREE_KINDS or (len(pw) < MIN_LENGTH and _kinds(pw) < 3):
        return (f"비밀번호는 {MIN_LENGTH}자 이상이거나, {MIN_LENGTH_THREE_KINDS}자 이상이면서 영문·숫자·특수문자를 "
                "모두 섞어야 합니다.")
    low = pw.lower()
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", low)
    if low in COMMON or core in COMMON or _is_sequence(low) or _is_sequence(core) or len(set(low)) <= 2:
        return "너무 흔하거나 추측하기 쉬운 비밀번호입니다. 다른 사람이 짐작할 수 없는 문구를 쓰세요."
    if any(w in low for w in WALKS) and len(re.sub("|".join(re.escape(w) for w in WALKS), "", low)) < 6:
        return "키보드 배열이나 숫자 나열로 된 비밀번호는 쓸 수 없습니다."
    name = unicodedata.normalize("NFC", username).strip().lower()
    if name and len(name) >= 3 and (name in low or low in name):
        return "비밀번호에 사용자 이름을 넣을 수 없습니다."
    return ""
