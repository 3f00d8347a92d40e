"""The 민원 요지 of a reply draft: the citizen's request restated in the third person, and the sentence helpers
the other reply modules share (sentences, small talk, placeholder lines).

"저는 … 정보공개를 청구했는데 비공개 결정 통지를 받았습니다. 이의신청은 언제까지 할 수 있나요?" becomes
"민원인께서는 … 비공개 결정 통지를 받았다며, 이의신청은 언제까지 할 수 있는지 문의하셨습니다.": the situation
as "…다며", each request as what was asked plus the act (문의/건의/요청/청구/신청/신고). Self-introductions made of
masked personal data and signature parts (성명, 연락처 …) are left out.
"""

from __future__ import annotations

import re
import unicodedata

_ASK_CUES = re.compile(
    r"[?？]|궁금|문의|여쭙|알려\s?주|알고\s?싶|가능한지|되는지|인지요|나요|까요|습니까|요청|바랍니다|주십시오|주세요|"
    r"건의|제안|개선|시정|취소|검토해|신청|발급|해\s?주시")
_SMALL_TALK = re.compile(r"^(?:안녕하|수고|감사|고생)|수고하십니다|감사합니다\.?$")
_SENTENCE_END = re.compile(r"(?<=[다요음함임됨오])\.(?=\s|$)|(?<=[?？!])(?=\s|$)")


def sentences(text: str) -> list[str]:
    """Sentences of a complaint or passage, line by line (statute lines are sentences of their own). A period
    inside parentheses ends no sentence: "(…를 포함한다. 이하 이 조에서 같다)" stays in its sentence."""
    out: list[str] = []
    for line in unicodedata.normalize("NFC", text).split("\n"):
        line = line.strip()
        if not line:
            continue
        start = 0
        for m in _SENTENCE_END.finditer(line):
            if _open_parentheses(line[start:m.start()]):
                continue
            piece = line[start:m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return out



def _open_parentheses(text: str) -> bool:
    depth = 0
    for ch in text:
        depth = depth + 1 if ch in "(（" else max(0, depth - 1) if ch in ")）" else depth
    return depth > 0


# --------------------------------------------------------------------------------------- 민원 요지

def is_small_talk(sentence: str) -> bool:
    """Greetings and thanks ("안녕하세요", "수고 많으십니다"): not part of what is asked."""
    return bool(_SMALL_TALK.search(sentence.strip()))


def asked_sentences(complaint: str) -> list[str]:
    """The sentences that ask something (question, request, proposal), not the story told before them."""
    sents = [s for s in sentences(without_placeholders(complaint, keep=True))
             if not _SMALL_TALK.search(s) and len(s) >= 6 and not _identifies(s)]
    return [s for s in sents if _ASK_CUES.search(s)]


def requestsentences(complaint: str, limit: int = 2) -> list[str]:
    """The sentences that carry the citizen's request (question, request or proposal), small talk skipped."""
    sents = [s for s in sentences(without_placeholders(complaint, keep=True))
             if not _SMALL_TALK.search(s) and len(s) >= 6 and not _identifies(s)]
    asks = [s for s in sents if _ASK_CUES.search(s)]
    if not asks:
        return sents[:limit] or [complaint.strip()[:200]]
    context = sents[0]  # what happened, then what is asked
    chosen = [context, asks[-1]] if context is not asks[-1] else [asks[-1]]
    return chosen[:limit]


def _identifies(sentence: str) -> bool:
    """A self-introduction whose content is masked personal data ("저는 [성명](주민등록번호 [주민등록번호])이고
    [주소]에 삽니다"): the 요지 restates what is asked, not who asks."""
    from assistant.tasks.pii import PLACEHOLDERS

    return any(ph in sentence for ph in PLACEHOLDERS.values()) and not _ASK_CUES.search(sentence)


_SIGNATURE = re.compile(r"신청인|민원인|제안자|문의자|신고자|청구인|작성자|소유자|대표|드림|올림|연락처|전화|"
                        r"휴대폰|이메일|주소|성명|주민등록번호|외국인등록번호|계좌|여권|카드번호|\[[가-힣]+\]")
_FIRST_PERSON = ((re.compile(r"(?:^|(?<=\s))(?:저는|저희는|제가|저희가|저도|나는|내가)\s"), ""),
                 (re.compile(r"(?:^|(?<=\s))(?:제|저희|내|우리)\s(?=[가-힣])"), ""))
_ASK_TAIL = (  # (pattern at the end of a request sentence, what the citizen did)
    (re.compile(r"\s?(?:을|를)?\s?(?:꼭\s)?(?:알려|안내해|안내하여|설명해|답변해|회신해)\s?주(?:시기\s?바랍니다|세요|십시오|"
                r"시면\s?감사하겠습니다|셨으면\s?합니다|실\s?수\s?있나요)$"), "문의"),
    (re.compile(r"\s?(?:에\s대한\s)?(?:답변|회신|안내|설명)(?:을|를)?\s?"
                r"(?:부탁드립니다|부탁합니다|바랍니다|요청합니다)$"), "문의"),
    (re.compile(r"(?:이|가)?\s?궁금(?:합니다|해요|하여\s?문의합니다)$"), "문의"),
    (re.compile(r"(?:을|를)?\s?알고\s?싶(?:습니다|어요)$"), "문의"),
    (re.compile(r"\s?(?:을|를)?\s?(?:문의|질의)(?:합니다|드립니다)$"), "문의"),
    (re.compile(r"\s?(?:을|를)?\s?(?:건의|제안)(?:합니다|드립니다)$"), "건의"),
)
_QUESTION = ((re.compile(r"\s?건가요$"), " 것인지"), (re.compile(r"인가요$|인지요$"), "인지"),
             (re.compile(r"([가-힣])ㄴ가요$"), r"\1ㄴ지"), (re.compile(r"한가요$"), "한지"),
             (re.compile(r"(할|될|일|을|갈|줄)까요$"), r"\1지"), (re.compile(r"([가-힣])나요$"), r"\1는지"),
             (re.compile(r"([가-힣])는지요$"), r"\1는지"), (re.compile(r"(있|없|했|됩|합)습니까$"), r"\1는지"))
_PLEASE = r"(?:시기\s?바랍니다|세요|십시오|셨으면\s?(?:좋겠습니다|합니다)|시길\s?바랍니다|시면\s?좋겠습니다)$"
_ACTION = re.compile(r"\s?(?:해|하여)\s?주" + _PLEASE)
_ACTION_OTHER = re.compile(r"([가-힣])\s?주" + _PLEASE)
_CLAIM = re.compile(r"(?:을|를)?\s?(청구|신청|신고)(?:합니다|하오니|드립니다)$")
_DECLARATIVE = ((re.compile(r"않습니다$"), "않는다며"), (re.compile(r"입니다$"), "이라며"),
                (re.compile(r"(불편|위험|부당|필요|가능|곤란|심각|억울|부족)합니다$"), r"\1하다며"),
                (re.compile(r"합니다$"), "한다며"), (re.compile(r"됩니다$"), "된다며"),
                (re.compile(r"([가-힣])습니다$"), r"\1다며"))
_DONE = {"문의": "문의하셨습니다", "건의": "건의하셨습니다", "요청": "요청하셨습니다", "청구": "청구하셨습니다",
         "신청": "신청하셨습니다", "신고": "신고하셨습니다"}
_LINK = {"문의": "문의하시고", "건의": "건의하시고", "요청": "요청하시고", "청구": "청구하시고", "신청": "신청하시고",
         "신고": "신고하시고"}


def _clean(sentence: str) -> str:
    """A complaint sentence without signature parts (이름·연락처 …) and first-person words."""
    parts = [p for p in re.split(r"(?<=[.?!])\s+|,\s+", sentence) if p.strip()]
    kept = [p for p in parts if not _SIGNATURE.search(p)] if len(parts) > 1 else parts
    text = ", ".join(p.strip() for p in kept) if kept else ""
    text = re.sub(r"(?<=[.?!]),", "", text)
    for rx, repl in _FIRST_PERSON:
        text = rx.sub(repl, text)
    return " ".join(text.split()).strip()


def _with(word: str) -> str:
    last = word[-1:]
    return "과" if "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 else "와"


def _object(text: str) -> str:
    """"법적 근거" → "법적 근거를" (a request that ends in a noun needs its object particle)."""
    if text.endswith(("지", "지도", "을", "를")):
        return text
    last = text[-1:]
    if "가" <= last <= "힣":
        return text + ("을" if (ord(last) - 0xAC00) % 28 else "를")
    return text


def ask_clause(sentence: str) -> tuple[str, str] | None:
    """(what is asked, the act) for one request sentence in third person, or None when it is not a request."""
    s = _clean(sentence).rstrip(" .!")
    if not s or _SIGNATURE.fullmatch(s):
        return None
    question = s.endswith(("?", "？"))
    s = s.rstrip("?？ ")
    s = re.sub(r"해\s?주시고", "하여 주고", s)
    s = re.sub(r"주시고", "주고", s)
    s = re.sub(r"(\S+?)(?:을|를)\s?하오니", lambda m: m.group(1) + _with(m.group(1)) + " 관련하여", s)
    for rx, act in _ASK_TAIL:
        m = rx.search(s)
        if m:
            body = s[:m.start()].rstrip(" ,")
            return (_object(body), act) if body else None
    for rx, repl in _QUESTION:
        if rx.search(s):
            return rx.sub(repl, s), "문의"
    m = _CLAIM.search(s)
    if m:
        return _object(s[:m.start()].rstrip()), m.group(1)
    m = _ACTION.search(s)
    if m:
        return s[:m.start()] + "하여 줄 것을", "요청"
    m = _ACTION_OTHER.search(s)
    if m:
        return s[:m.start()] + m.group(1) + " 줄 것을", "요청"
    if question:
        return None
    return None


def situation_clause(sentence: str) -> str | None:
    """"…결정 통지가 없습니다." → "…결정 통지가 없다며" (None when the ending is not one we can convert)."""
    s = _clean(sentence).rstrip(" .")
    for rx, repl in _DECLARATIVE:
        if rx.search(s):
            return rx.sub(repl, s)
    return None


def gist_paragraph(complaint: str, kind: str) -> str:
    """The 민원 요지 in the third person: "민원인께서는 (situation)다며, (request) 문의하셨습니다."."""
    sents = [s for s in sentences(without_placeholders(complaint, keep=True))
             if not _SMALL_TALK.search(s) and len(s) >= 4]
    asks: list[tuple[str, str]] = []
    situation = None
    for s in sents:
        clause = ask_clause(s)
        if clause:
            asks.append(clause)
        elif situation is None and not asks and not _identifies(s):
            situation = situation_clause(s)
    asks = _merge([(w, "건의" if a == "요청" and kind == "건의민원" else a) for w, a in asks[:3]])[:2]
    if not asks:
        if situation:
            return f"민원인께서는 {situation.removesuffix('며')}고 알려 오셨습니다."
        return "민원인께서는 【민원 요지】에 대하여 " + _DONE.get(_KIND_ACT.get(kind, "요청"), "요청하셨습니다") + "."
    lead = f"{situation}, " if situation else ""
    text = lead + ", ".join(
        f"{what} {(_LINK if i < len(asks) - 1 else _DONE)[act]}" for i, (what, act) in enumerate(asks))
    text = "민원인께서는 " + text.rstrip(".") + "."
    if len(text) > 320:
        text = text[:317].rstrip() + "…"
    return text


def _merge(asks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Two questions in a row become one list of questions ("…하는지, …되는지 문의하셨습니다")."""
    out: list[tuple[str, str]] = []
    for what, act in asks:
        if out and out[-1][1] == act and act == "문의" and out[-1][0].endswith("지"):
            out[-1] = (f"{out[-1][0]}, {what}", act)
        else:
            out.append((what, act))
    return out


_KIND_ACT = {"질의민원": "문의", "건의민원": "건의", "법정민원": "신청", "고충민원": "요청", "기타민원": "요청"}


def without_placeholders(text: str, keep: bool = False) -> str:
    """The complaint without the lines that only list personal data; ``keep=False`` also blanks the
    [성명]-style placeholders (for matching: they are not words of the request)."""
    from assistant.tasks.pii import PLACEHOLDERS

    lines = []
    for line in text.split("\n"):
        stripped = line
        for ph in PLACEHOLDERS.values():
            stripped = stripped.replace(ph, " ")
        if re.sub(r"[\s,:：/()\-]|성명|이름|연락처|주소|이메일|전화|휴대폰|주민등록번호|계좌", "", stripped):
            lines.append(line if keep else stripped)
    return "\n".join(lines)
