"""``assistant search | ask``: find passages, and answer from them with cited sources."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError


def add_commands(sub: Any) -> None:
    from assistant.generate.factory import generator_names

    se = sub.add_parser("search", help="색인에서 관련 구절 검색")
    se.add_argument("query")
    se.add_argument("--index")
    se.add_argument("-k", type=int, default=None, help="결과 개수 (기본 5)")
    se.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default=None)
    se.add_argument("--doc-type", action="append", default=[], help="문서 형식으로 제한 (md, pdf, hwp …)")
    se.add_argument("--source", default="", help="원본 경로 접두어로 제한")
    se.add_argument("--json", action="store_true", help="JSON으로 출력")
    se.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="색인된 문서를 근거로 질문에 답변 (출처 번호 [n] 인용)")
    ask.add_argument("question", help="질문 ('-' 이면 표준입력에서 읽음)")
    ask.add_argument("--index", help="색인 이름 (기본: default)")
    ask.add_argument("-k", type=int, default=None, help="근거로 쓸 구절 수 (기본: ASSISTANT_ASK_TOP_K)")
    ask.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default=None, help="검색 방식")
    ask.add_argument("--generator", default=None,
                     help=f"생성기: {' | '.join(generator_names())} (기본: ASSISTANT_GENERATOR)")
    ask.add_argument("--detail", action="store_true", help="짧은 답 대신 근거 문장을 더 많이 (최대 5개)")
    ask.add_argument("--json", action="store_true", help='JSON으로 출력: {"answer", "citations", "abstained"}')
    ask.set_defaults(func=cmd_ask)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.retrieve.filters import SearchFilter
    from assistant.retrieve.search import open_retriever

    query = args.query.strip()
    if not query:
        raise AssistantError("검색어가 비어 있습니다.")
    retriever = open_retriever(settings, args.index)
    flt = SearchFilter(source_prefix=str(Path(args.source).resolve()) if args.source else "",
                       doc_types=tuple(args.doc_type))
    hits = retriever.search(query, k=args.k or settings.top_k, mode=args.mode or settings.search_mode, flt=flt)
    if args.json:
        out = {"query": query, "hits": [h.to_json(i) for i, h in enumerate(hits, 1)]}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("검색 결과가 없습니다.")
    for i, h in enumerate(hits, 1):
        where = " · ".join(x for x in (h.location, h.section) if x)
        print(f"[{i}] {h.title} — {where}  (점수 {h.score:.4f})\n    {h.source}")
        body = h.text.replace("\n", " ")
        print(f"    {body[:300]}{'…' if len(body) > 300 else ''}\n")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.tasks.ask import check_question

    settings = settings.with_overrides(ask_top_k=args.k, search_mode=args.mode, generator=args.generator)
    question = check_question(sys.stdin.read() if args.question == "-" else args.question,
                              settings.ask_max_question_chars)  # before loading an index or a model
    from assistant.generate.factory import make_generator
    from assistant.retrieve.search import open_retriever
    from assistant.tasks.ask import AskService

    service = AskService(open_retriever(settings, args.index), make_generator(settings), settings)
    answer = service.ask(question, detail=args.detail)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(answer.answer)
    print("\n가장 가까운 문서 (참고용):" if answer.abstained else "\n출처:")
    for p in answer.citations:
        print(f"[{p.n}] 「{p.title}」 {p.location}".rstrip() + f"\n    {p.source}")
    layer = getattr(service.retriever, "semantic", None)
    if layer is not None:
        have, total = layer.coverage
        if have < total:
            print(f"\n(의미 검색 벡터 {have:,}/{total:,}개만 준비되어 형태소 검색 위주로 답했습니다. "
                  f"'assistant semantic fill'로 채우면 일상적인 표현을 더 잘 이해합니다.)", file=sys.stderr)
    return 0
