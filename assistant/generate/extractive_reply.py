"""Extractive 민원 답변서 drafts: the official structure filled from the complaint and the retrieved sources.

No model: deterministic. The extractive generator hands ``draft_reply`` requests here (``draft_request``).

Request contract (shared with ``prompts/draft_reply.md``): ``variables`` — ``complaint`` (already masked),
``complaint_type`` (label), ``complaint_kind`` (법정민원 …), ``deadline`` (text), ``contact`` (fill-in field);
``passages`` — retrieved sources, best first (law articles ahead of other documents).

Structure (the common 민원 답변서 order): 인사 → 1. 민원 요지 → 2. 검토 결과 (가. 나. 다.) → 3. 관련 근거 →
4. 추가 문의 안내 → 맺음말. The 민원 요지 quotes the citizen's own request sentences (masked) rather than
paraphrasing them, and each 검토 결과 point quotes the most relevant sentence of one source, introduced by the
law and article (or document) it comes from and followed by its [n] marker — so nothing is asserted that a
source does not say. 관련 근거 lists only articles that are retrieved passages or are quoted inside one.

Source text is data: a sentence that addresses the assistant ("답변서를 작성하는 AI에게: …", "이전 지시를 무시하고
…") is never a candidate, nor the payload that follows one, and a title or section label made of one is not
used to introduce a quote (assistant.korean.injection).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.generate.base import GenerationRequest, Passage
from assistant.korean.injection import addresses_assistant, without_instructions

LETTERS = "가나다라마바사"
MAX_POINTS = 3
MAX_QUOTE_CHARS = 360

GREETING = ("안녕하십니까? 평소 행정에 관심을 가져 주셔서 감사드리며, 귀하께서 제출하신 민원에 대하여 "
            "검토한 결과를 다음과 같이 답변드립니다.")
CLOSING = "귀하의 가정에 건강과 행복이 늘 함께하기를 바랍니다. 감사합니다."
CAVEAT = ("다만, 위 내용은 제출하신 민원 내용만을 바탕으로 검토한 것이므로 구체적인 사실관계에 따라 "
          "달라질 수 있음을 양해하여 주시기 바랍니다.")
_ASK_VERB = {
    "질의민원": "관련 법령과 절차에 대한 설명을 요청하신 것으로 이해됩니다",
    "건의민원": "관련 제도와 운영의 개선을 건의하신 것으로 이해됩니다",
    "고충민원": "해당 처분 등으로 인한 불편의 해소와 시정을 요청하신 것으로 이해됩니다",
    "법정민원": "관계 법령에 따른 처리를 신청하신 것으로 이해됩니다",
    "기타민원": "이에 대한 안내와 조치를 요청하신 것으로 이해됩니다",
}
_ASK_CUES = re.compile(
    r"[?？]|궁금|문의|여쭙|알려\s?주|알고\s?싶|가능한지|되는지|인지요|나요|까요|습니까|요청|바랍니다|주십시오|주세요|"
    r"건의|제안|개선|시정|취소|검토해|신청|발급|해\s?주시")
_SMALL_TALK = re.compile(r"^(?:안녕하|수고|감사|고생)|수고하십니다|감사합니다\.?$")
_ARTICLE_HEAD = re.compile(r"^\s*(제\s*\d+\s*조(?:\s*의\s*\d+)?)\s*(?:\(([^)]{1,40})\))?\s*")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_SENTENCE_END = re.compile(r"(?<=[다요음함임됨오])\.(?=\s|$)|(?<=[?？!])(?=\s|$)")
_CASE_NO = re.compile(r"(?:법제처|[가-힣]{2,6})-\d{2}-\d{4}")


@dataclass
class _Candidate:
    passage: Passage
    text: str
    paragraph: int | None  # 항 number when the sentence starts a 항
    article: str = ""  # the article the sentence belongs to (a merged passage can hold several)
    article_title: str = ""
    score: float = 0.0


def sentences(text: str) -> list[str]:
    """Sentences of a complaint or passage, line by line (statute lines are sentences of their own)."""
    out: list[str] = []
    for line in unicodedata.normalize("NFC", text).split("\n"):
        line = line.strip()
        if not line:
            continue
        start = 0
        for m in _SENTENCE_END.finditer(line):
            piece = line[start:m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return out


# --------------------------------------------------------------------------------------- 민원 요지

def is_small_talk(sentence: str) -> bool:
    """Greetings and thanks ("안녕하세요", "수고 많으십니다"): not part of what is asked."""
    return bool(_SMALL_TALK.search(sentence.strip()))


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


# --------------------------------------------------------------------------------------- 검토 결과

_LAW_TITLE = re.compile(r"(?:법|법률|시행령|시행규칙|규칙|규정|조례|령)$")
_ARTICLE_IN_LOCATION = re.compile(r"제\d+조")


def is_law_text(title: str, source: str, article: str | None, location: str) -> bool:
    """A statute passage: it has an article label (or its location lists articles of a law-named document)."""
    if _CASE_NO.search(f"{source} {title}"):
        return False
    return bool(article) or (bool(_ARTICLE_IN_LOCATION.search(location)) and bool(_LAW_TITLE.search(title.strip())))


def is_law_passage(p: Passage) -> bool:
    return is_law_text(p.title, p.source, p.article, p.location)


def article_of(p: Passage) -> tuple[str, str]:
    """("제19조", "처리기간의 계산") from the passage's article label and its text's article heading."""
    m = _ARTICLE_HEAD.match(p.text)
    article = re.sub(r"\s+", "", (p.article or (m.group(1) if m else "")))
    article = re.sub(r"제\d+항.*$", "", article)
    title = m.group(2) if m and m.group(2) else ""
    return article, title


def _candidates(passages: Sequence[Passage]) -> list[_Candidate]:
    """Sentences of every passage; in law passages each keeps the article (and 항) it belongs to."""
    cands: list[_Candidate] = []
    for p in passages:
        law = is_law_passage(p)
        article, article_title = article_of(p) if law else ("", "")
        paragraph: int | None = None
        for sent in without_instructions(sentences(p.text)):
            body = sent
            head = _ARTICLE_HEAD.match(sent) if law else None
            if head and head.group(2) is not None:  # "제11조(정보공개 여부의 결정) …" starts a new article
                article, article_title, paragraph = re.sub(r"\s+", "", head.group(1)), head.group(2), None
                body = sent[head.end():].strip()
            if body and body[0] in _CIRCLED:
                paragraph = _CIRCLED.index(body[0]) + 1
                body = body[1:].strip()
            if len(body) >= 12 and not body.startswith(("- 안건번호", "- 출처", "※")):
                cands.append(_Candidate(p, body, paragraph, article, article_title))
    return cands


_LIGHT_VERBS = frozenset("하다 있다 없다 되다 주다 받다 않다 알리다 같다".split())  # "해야 하나요" is not a subject
_ASKS_DURATION = re.compile(r"며칠|몇\s?일|언제까지|기간|기한|얼마나\s?걸")
_ASKS_AMOUNT = re.compile(r"얼마|금액|비용|수수료|요금")
_DURATION = re.compile(r"\d+\s?(?:일|개월|시간|주)|이내|지체\s?없이|즉시")
_AMOUNT = re.compile(r"\d[\d,]*\s?(?:원|만원|억원)")


def _terms(texts: list[str]) -> list[list[str]]:
    from assistant.korean.morph import content_terms_batch

    return content_terms_batch(texts) if texts else []


def rank_candidates(complaint: str, cands: list[_Candidate]) -> None:
    """Score each sentence against the complaint: IDF-weighted shared content morphemes, shared morpheme pairs
    ("공개 여부 … 결정"), the kind of answer asked for (며칠 → a period, 얼마 → an amount), and source rank."""
    term_lists = _terms([complaint] + [c.text for c in cands])
    query, lists = set(term_lists[0]) - _LIGHT_VERBS, term_lists[1:]
    query_pairs = set(zip(term_lists[0], term_lists[0][1:], strict=False))
    n = len(lists) + 1
    df: dict[str, int] = {}
    for terms in lists:
        for t in set(terms):
            df[t] = df.get(t, 0) + 1
    wants_duration, wants_amount = bool(_ASKS_DURATION.search(complaint)), bool(_ASKS_AMOUNT.search(complaint))
    for c, terms in zip(cands, lists, strict=True):
        s = set(terms)
        overlap = sum(math.log(n / df[t]) + 0.5 for t in query & s)
        overlap += 0.7 * len(query_pairs & set(zip(terms, terms[1:], strict=False)))
        intent = 1.0 + 0.5 * (wants_duration and bool(_DURATION.search(c.text))) \
            + 0.5 * (wants_amount and bool(_AMOUNT.search(c.text)))
        c.score = (overlap / math.sqrt(len(s) + 4) * intent + 0.3 / c.passage.n) * _form_weight(c)


def _form_weight(c: _Candidate) -> float:
    """Whole sentences quote better than list items (1. …, 가. …); a 해석례's 회답 is its conclusion."""
    weight = 1.0
    if re.match(r"^(?:\d{1,2}|[가-하])\.\s", c.text):
        weight *= 0.6
    if not is_law_passage(c.passage) and not re.search(r"(?:다|요|까)[.?]?$", c.text):
        weight *= 0.5
    if "회답" in c.passage.location:
        weight *= 1.5
    if len(c.text) > 250:  # a paragraph-long sentence is a poor quotation
        weight *= 0.5
    return weight


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


def _quote(text: str) -> str:
    text = text.rstrip()
    if len(text) > MAX_QUOTE_CHARS:
        cut = text.rfind(" ", 0, MAX_QUOTE_CHARS)
        text = text[: cut if cut > 0 else MAX_QUOTE_CHARS].rstrip(" ,") + " …"
    return text.rstrip(".")


def _intro(c: _Candidate) -> str:
    p = c.passage
    title = _label(p.title) or "관련 자료"
    if is_law_passage(p):
        para = f"제{c.paragraph}항" if c.paragraph else ""
        return f"「{title}」 {c.article}{para}에서는"
    case = _CASE_NO.search(p.source) or _CASE_NO.search(p.title)
    if case:
        return f"법제처 법령해석례({case.group()})에서는"
    location = _label(p.location)
    where = f"({location})" if location else ""
    return f"『{title}』{where}에서는"


def _label(text: str) -> str:
    """A title or location ("발급 장소, 수수료") without the parts that address the assistant (a heading can be one)."""
    parts = [x for x in (text or "").split(", ") if not addresses_assistant(x)]
    label = ", ".join(parts)
    return "" if addresses_assistant(label) else label


_LEAD = re.compile(r"^\s*(?:제\s*\d+\s*조(?:의\s*\d+)?\s*(?:\([^)]*\))?)?\s*[①-⑳]?\s*")


def _same_text(a: str, b: str) -> bool:
    """Whether two sentences say the same thing (one contains the other once article labels are dropped)."""
    a, b = (" ".join(_LEAD.sub("", x).split()) for x in (a, b))
    return bool(a and b) and (a in b or b in a)


def _article_number(article: str) -> tuple[int, int]:
    m = re.match(r"제(\d+)조(?:의(\d+))?", article or "")
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (10**6, 0)


def _quote_particle(quote: str) -> str:
    """"…한다"고 / "…신청"이라고 / "…기관"이라고: the quotative particle that fits the quote's last syllable."""
    last = quote.rstrip()[-1:] if quote.strip() else ""
    if last == "다" and not quote.rstrip().endswith("니다"):
        return "고"
    if "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28:
        return "이라고"
    return "라고"


def _verb(c: _Candidate) -> str:
    if is_law_passage(c.passage):
        return "규정하고 있습니다"
    if _CASE_NO.search(c.passage.source) or _CASE_NO.search(c.passage.title):
        return "해석한 바 있습니다"
    return "안내하고 있습니다"


#: a sentence is quoted only when it holds this share of the complaint's IDF-weighted content morphemes
#: (its article title counted), so a sentence that shares no more than a stray word is never quoted. Low on
#: purpose: long complaints spread their weight over many words (the 청문 rule answering a 허가 취소 question
#: holds 0.08); passage relevance (assistant.tasks.draft_reply.relevance) does the main filtering.
SENTENCE_FLOOR = 0.08


_LIST_ITEM = re.compile(r"^(?:\d{1,2}|[가-하])\\?\.\s")
_WHOLE = re.compile(r"(?:다|요|까)[.?]?[\"”』」)]?$")
#: words every 민원 text shares: sharing them says nothing about the subject of the complaint
GENERIC_TERMS = frozenset("민원 민원인 처리 행정기관 기관 경우 신청 사항 관련 해당 법률 규정 있다 없다 하다 되다 "
                          "알리다 주다 받다 관하다 대하다 따르다 같다 위하다 않다".split())


def bears_on(cands: list[_Candidate], weights: dict[str, float], complaint: str = "") -> list[tuple[bool, float]]:
    """Whether each sentence bears on the complaint: SENTENCE_FLOOR of its weighted content morphemes (article
    title included) and at least two shared words beyond the ones every 민원 text has (민원실 alone does not make
    a rule about 민원실 staff an answer about its car park)."""
    from assistant.korean.scoring import weighted_share

    term_lists = _terms([f"{c.article_title} {c.text}" for c in cands])
    weights = {t: w for t, w in weights.items() if t not in GENERIC_TERMS} or weights
    wants_duration, wants_amount = bool(_ASKS_DURATION.search(complaint)), bool(_ASKS_AMOUNT.search(complaint))
    out = []
    for c, terms in zip(cands, term_lists, strict=True):
        shared = {t for t in set(terms) & set(weights) if len(t) >= 2} - GENERIC_TERMS  # 시, 장: too vague
        cov = weighted_share(weights, set(terms))
        # one shared subject word is enough when it carries much of the complaint, or when the sentence gives
        # the kind of answer asked for ("수수료가 얼마" → "수수료는 400원")
        answers = (wants_duration and bool(_DURATION.search(c.text))) or (wants_amount and bool(_AMOUNT.search(c.text)))
        ok = cov >= SENTENCE_FLOOR and (len(shared) >= 2 or (len(shared) == 1 and (answers or cov >= 0.2)))
        out.append((ok, cov))
    return out


def review_points(complaint: str, passages: Sequence[Passage],
                  weights: dict[str, float] | None = None) -> list[tuple[str, _Candidate]]:
    """Up to MAX_POINTS points, one per source, best sentence first; each returns (text, quoted sentence).
    With ``weights`` (the complaint's morphemes and their IDF in the index), sentences that do not bear on
    the complaint are not candidates at all."""
    # whole law sentences only: an item out of its list ("법인이나 조합 등의 설립허가의 취소") says nothing alone
    cands = [c for c in _candidates(passages)
             if not is_law_passage(c.passage) or (not _LIST_ITEM.match(c.text) and _WHOLE.search(c.text))]
    coverage: dict[int, float] = {}
    if cands and weights:
        checked = bears_on(cands, weights, complaint)
        coverage = {id(c): cov for c, (ok, cov) in zip(cands, checked, strict=True) if ok}
        cands = [c for c in cands if id(c) in coverage]
    if not cands:
        return []
    rank_candidates(without_placeholders(complaint), cands)
    for c in cands:  # the index-wide weights know that 청문 matters more than 처분
        c.score *= 1.0 + 2.0 * coverage.get(id(c), 0.0)
    chosen: list[_Candidate] = []
    per_doc: dict[str, int] = {}
    order = {id(c): i for i, c in enumerate(cands)}
    for c in sorted(cands, key=lambda c: -c.score):
        if len(chosen) >= MAX_POINTS:
            break
        limit = 2 if is_law_passage(c.passage) else 1  # two articles of one law, one point per other document
        if per_doc.get(c.passage.doc_id, 0) >= limit or any(_same_text(c.text, o.text) for o in chosen):
            continue  # a 해석례 often quotes the very article already chosen
        if chosen and c.score < 0.4 * chosen[0].score:
            break
        chosen.append(c)
        per_doc[c.passage.doc_id] = per_doc.get(c.passage.doc_id, 0) + 1
    # the sentence that answers best comes first; the others follow in the order of the law
    chosen[1:] = sorted(chosen[1:], key=lambda c: (not is_law_passage(c.passage),
                                                   c.passage.title if is_law_passage(c.passage) else "",
                                                   _article_number(c.article), c.passage.n, order[id(c)]))
    points = []
    for c in chosen:
        quote = _quote(c.text)
        points.append((f"{_intro(c)} \"{quote}\"{_quote_particle(quote)} {_verb(c)}. [{c.passage.n}]", c))
    return points


# --------------------------------------------------------------------------------------- 관련 근거

def basis_lines(points: Sequence[tuple[str, _Candidate]]) -> list[str]:
    """「법령명」 제N조(제목) for every law article quoted, then the articles quoted inside the points."""
    from assistant.generate.citations import parse_law_references

    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    for text, c in points:
        p = c.passage
        if is_law_passage(p):
            key = (p.title, c.article)
            if c.article and key not in seen:
                seen.add(key)
                lines.append(f"- 「{_label(p.title) or '관련 법령'}」 {c.article}"
                             + (f"({c.article_title})" if c.article_title else ""))
        elif (p.title, "") not in seen:
            seen.add((p.title, ""))
            lines.append(f"- 『{_label(p.title) or '관련 자료'}』")
        for ref in parse_law_references(text):
            key = (ref.law, ref.article)
            if key not in seen:
                seen.add(key)
                lines.append(f"- 「{ref.law}」 {ref.article}")
    return lines


# --------------------------------------------------------------------------------------- the draft

DEFAULT_CONTACT = "○○과 ○○○ 주무관(☎ 000-0000)"  # the setting's default: written as fill-in fields instead
FILLIN_CONTACT = "【담당 부서】 【담당자】 주무관(☎ 【전화번호】)"
UNCOVERED_REVIEW = ("【검토 결과 — 보유 문서에서 이 민원의 근거를 찾지 못했습니다. 관계 법령과 사실관계를 확인하여 "
                    "작성하십시오】")
UNCOVERED_BASIS = "- 【근거 법령】(보유 문서에서 찾지 못함 — 담당자 확인)"
_FIRST_POINT = {  # what only the officer knows, asked first: the answer to the request
    "법정민원": "신청하신 사항은 【처리 결과】.",
    "고충민원": "요청하신 사항은 【처리 결과】.",
    "기타민원": "요청하신 사항은 【처리 결과】.",
    "건의민원": "건의하신 사항은 【검토 의견(반영 여부와 그 사유)】.",
}


def review_texts(kind: str, points: Sequence[tuple[str, _Candidate]]) -> list[str]:
    """The 검토 결과 items: the answer first (the quote that answers a 질의, or the fill-in for the result of
    a request), then the other quotes, then the caveat; a fill-in asking for the basis when nothing bears on
    the complaint."""
    texts = [_FIRST_POINT[kind]] if kind in _FIRST_POINT else []
    if not points:
        return texts + [UNCOVERED_REVIEW]
    return texts + [t for t, _ in points] + [CAVEAT]


def compose_reply(complaint: str, kind: str, passages: Sequence[Passage], contact: str,
                  deadline_sentence: str = "", weights: dict[str, float] | None = None) -> str:
    points = review_points(complaint, passages, weights)
    body = [GREETING, "", "1. 민원 요지", f"  {gist_paragraph(complaint, kind)}"]
    if deadline_sentence:
        body.append(f"  {deadline_sentence}")
    body += ["", "2. 검토 결과"]
    body += [f"  {LETTERS[i]}. {t}" for i, t in enumerate(review_texts(kind, points))]
    basis = basis_lines(points) or [UNCOVERED_BASIS]
    body += ["", "3. 관련 근거", *[f"  {b}" for b in basis]]
    who = FILLIN_CONTACT if contact.strip() in ("", DEFAULT_CONTACT) else contact
    body += ["", "4. 추가 문의 안내",
             f"  답변 내용에 대하여 추가로 궁금하신 사항이 있으시면 {who}에게 연락 주시면 "
             "성심껏 안내해 드리겠습니다.",
             "", CLOSING]
    return "\n".join(body)


def draft_request(request: GenerationRequest) -> Iterator[str]:
    """Entry point for the extractive generator: yields the draft paragraph by paragraph."""
    if request.task != "draft_reply":
        raise ValueError(f"extractive_reply cannot handle task {request.task!r}")
    v = request.variables
    text = compose_reply(v.get("complaint", ""), v.get("complaint_kind", "기타민원"), request.passages,
                         v.get("contact", DEFAULT_CONTACT), v.get("deadline_sentence", ""),
                         json.loads(v["term_weights"]) if v.get("term_weights") else None)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        yield line + ("\n" if i < len(lines) - 1 else "")
