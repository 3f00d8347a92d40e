"""What a Korean question asks for, and what a sentence that answers it contains.

A 주무관 asking "질의민원 며칠 안에 답해줘야 돼?" wants a period (기간); "첫만남이용권 얼마?" an amount;
"어디 가서 신청해요?" a place. The answer composer leads with the sentence that carries that kind of fact, so
each kind has two patterns: one that recognises the question (everyday wording) and one that recognises
a sentence stating such a fact (the wording of statutes and guides).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: kinds of question; when several match, an interrogative ("몇 번", "며칠", "얼마", "어디") decides over a
#: topic word ("기한", "비용"), and within a tier the order below wins
KINDS = ("기간", "금액", "수량", "서류", "장소", "대상", "방법", "정의", "가능여부")

#: interrogatives and phrasings that say what is asked
_ASKS_STRONG: dict[str, str] = {
    "기간": r"며칠|몇\s*일|몇일|몇\s*시간|몇\s*시|몇\s*개월|몇\s*달|몇\s*년|몇\s*주|"
            r"얼마나\s*(?:걸|있어야|오래|다녀야|기다려)|얼마\s*동안|언제까지|언제부터|언제",
    "금액": r"얼마(?!나)|얼마나\s*(?:받|나와|줘|주|지원|들|내)|몇\s*만\s*원|몇\s*원|몇\s*억",
    "수량": r"몇\s*(?:명|번|회|건|개|곳|세대|가구|퍼센트|프로|%|배|종|편|쪽|차례|개소|대|km|킬로|미터|m)"
            r"|"
            r"몇\s*프로|얼마나\s*(?:많|되|돼)",
    "서류": r"(?:뭐|무엇을?|뭘|어떤\s*서류)\s*(?:가져|챙겨|들고|내야|내면|제출|준비)"
            r"|챙길\s*(?:거|것)|준비물|필요한\s*서류",
    "장소": r"어디|어느\s*(?:곳|기관|부서|창구|사이트)|전화번호|연락처|문의처",
    "대상": r"누가|누구|몇\s*세|몇\s*살|어떤\s*(?:사람|분|외국인|학교|경우)",
    "방법": r"어떻게|어떤\s*방법|하려면|순서",
    "정의": r"뜻이|뜻은|의미가|정의가|무엇인가|뭔가요|뭐예요|뭐에요|뭐지|이란\s|란\s*(?:무엇|뭐)|이라는\s*(?:게|것)|"
            r"라는\s*(?:게|것)|무슨\s*말|뭐가\s*다른",
}
#: topic words: weaker evidence of what is asked
_ASKS_WEAK: dict[str, str] = {
    "기간": r"기간|기한|시한|마감|걸려|걸리|걸림|유효|일정",
    "금액": r"금액|비용|돈|수수료|요금|지원금|한도|상한|예산|단가|이자|금리|보증료",
    "수량": r"비율|퍼센트|인원|규모",
    "서류": r"서류|구비|증명서|첨부",
    "장소": r"장소|창구|누리집|사이트|홈페이지",
    "대상": r"대상|자격|해당(?:되|돼|하는지)|받을\s*수\s*있는\s*사람|나이|조건|기준",
    "방법": r"방법|절차|신청은|처리는",
    "가능여부": r"(?:수|도)\s*(?:있|없)(?:나|나요|는지|을까|어요|습니까|음|지)|되나요|되요|돼요|되는지|될까|되죠|됨\?|"
                r"가능|해도\s*(?:되|돼|괜찮)|안\s*(?:되|돼)|괜찮|맞나요|맞죠|맞아요|인가요|건가요|거에요|거예요|는지요|"
                r"없을까|나요\??$|까요\??$|니까\??$",
}

#: wording of a sentence that states a fact of the kind: (strong, weak) — a figure with its unit is strong,
#: a word about the kind ("기간", "이내") is weak
_STATES: dict[str, tuple[str, str]] = {
    "기간": (r"\d+\s*(?:일|시간|근무시간|개월|월|년|주|분|시)(?!\s*(?:원|명))|지체\s*없이|즉시|\d+시부터",
             r"이내|까지|부터|기간|기한|동안|만료|초일"),
    "금액": (r"\d[\d,.]*\s*(?:조|억|만|천)?\s*(?:원|달러)|무료|무상|전액", r"면제|감면|부담|\d+\s*%|실비|비용"),
    "수량": (r"\d[\d,.]*\s*(?:명|회|번|건|개|곳|세대|가구|%|퍼센트|배|종|개소|대|인|km|m)", r"이상|이하|이내|한정"),
    "서류": (r"신분증|증명서|사본|신청서|확인서|통장|등본|초본|진단서|서약서|합의서|사진", r"서류|첨부|제출"),
    "장소": (r"센터|주민센터|행정복지센터|읍면동|시군구|지사|공단|누리집|홈페이지|www\.|https?://|창구|"
             r"\(\d{3,4}\)|\d{2,4}-\d{3,4}(?:-\d{4})?|콜센터|병무청|사무소|대리점",
             r"방문|기관|전화|온라인"),
    "대상": (r"대상은|대상자는|자격은|이상인|이하인|해당하는\s*(?:사람|자)|세\s*이상|세\s*미만|누구든지|모든\s*국민",
             r"대상|자격|사람|자는|자가|가구|국민|청구인|자에게"),
    "방법": (r"방법은|절차는|통하여|문서로|서면으로|구술|말로써|전자문서로|온라인으로|방문하여|신청하(?:면|여야)",
             r"방법|절차|신청|제출|방문|온라인|전자|하여야|할\s*수\s*있다"),
    "정의": (r"말한다|이란|라\s*한다|뜻한다|이라\s*함", r"를\s*말|의미"),
    "가능여부": (r"할\s*수\s*있다|할\s*수\s*없다|하여야\s*한다|해야\s*한다|아니\s*된다|못한다|금지|불가|"
                 r"할\s*수\s*있습니다|없습니다|가능합니다", r"없다|있다|가능"),
}

#: a sentence's subject that says which aspect it is about ("…의 대상은", "신청방법은", "문의는")
_ASPECT: dict[str, str] = {
    "대상": r"(?:지원\s*)?대상(?:자)?(?:은|는|이|으로)|자격(?:은|는)|선정\s*기준",
    "방법": r"신청\s*방법(?:은|는)|신청(?:은|은요)\s|절차(?:는|은)",
    "장소": r"문의(?:는|처는|할\s*수)|문의하|상담(?:은|는)\s",
    "서류": r"(?:구비|제출|필요)\s*서류(?:는|은)|서류(?:는|은)\s",
    "금액": r"(?:지원\s*)?(?:내용|금액|급여액|수준)(?:은|는)|지원(?:합니다|한다|됩니다)|지급(?:합니다|한다|됩니다)",
}


#: what each kind asks for, in words a prompt can use
DESCRIPTION = {
    "기간": "기간·기한 (며칠, 몇 시간, 언제까지)", "금액": "금액 (얼마)", "수량": "수·비율 (몇 명, 몇 번, 몇 %)",
    "서류": "필요한 서류 (무엇을 내는지)", "장소": "장소·연락처 (어디에, 어디로)", "대상": "대상·자격 (누가)",
    "방법": "방법·절차 (어떻게)", "정의": "뜻 (무엇인지)", "가능여부": "가능 여부 (되는지, 안 되는지)",
    "기타": "질문이 묻는 사실",
}


@dataclass(frozen=True)
class QuestionKind:
    kind: str            # the first matching of :data:`KINDS`, or "기타"
    all: tuple[str, ...]  # every kind whose question pattern matched, in :data:`KINDS` order

    @property
    def description(self) -> str:
        return DESCRIPTION.get(self.kind, DESCRIPTION["기타"])


@lru_cache(maxsize=1)
def _patterns() -> dict[str, dict[str, Any]]:
    return {
        "strong": {k: re.compile(p) for k, p in _ASKS_STRONG.items()},
        "weak": {k: re.compile(p) for k, p in _ASKS_WEAK.items()},
        "states": {k: (re.compile(a), re.compile(b)) for k, (a, b) in _STATES.items()},
        "aspect": {k: re.compile(p) for k, p in _ASPECT.items()},
    }


def question_kind(question: str) -> QuestionKind:
    pats = _patterns()
    q = unicodedata.normalize("NFC", question).strip()
    strong = [k for k in KINDS if k in pats["strong"] and pats["strong"][k].search(q)]
    weak = [k for k in KINDS if k in pats["weak"] and pats["weak"][k].search(q) and k not in strong]
    found = tuple(strong + weak)
    return QuestionKind(found[0] if found else "기타", found)


def states(kind: str, sentence: str) -> bool:
    """Whether a sentence states a fact of the given kind (strongly or weakly)."""
    return state_strength(kind, sentence) > 0


def state_strength(kind: str, sentence: str) -> float:
    """1.0 when a sentence states a fact of the kind with its figure or name, 0.5 with a word only, else 0."""
    pair = _patterns()["states"].get(kind)
    if pair is None:
        return 0.0
    if pair[0].search(sentence):
        return 1.0
    return 0.5 if pair[1].search(sentence) else 0.0


def aspect(sentence: str) -> str | None:
    """The aspect a sentence's subject announces (대상, 방법, 장소, 서류, 금액), if any."""
    for kind, pat in _patterns()["aspect"].items():
        if pat.search(sentence[:60]):
            return kind
    return None


def fact_strength(kinds: tuple[str, ...], sentence: str) -> float:
    """How well a sentence carries what the question asks (0–1): the primary kind counts fully, a secondary
    kind at 0.6; a sentence whose subject announces another aspect ("…의 대상은" for an amount question)
    loses half. 0.3 for any sentence when nothing specific was asked."""
    if not kinds:
        return 0.3
    best = state_strength(kinds[0], sentence)
    for k in kinds[1:]:
        best = max(best, 0.6 * state_strength(k, sentence))
    about = aspect(sentence)
    if about is not None and about != kinds[0] and kinds[0] in _ASPECT:
        best *= 0.5
    elif about is not None and about == kinds[0]:
        best = max(best, 0.8)
    return best
