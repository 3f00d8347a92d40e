"""report.md: headline table, plain-language explanations, targets vs achieved, details, failures."""

from __future__ import annotations

from typing import Any

EXPLAIN = [
    ("Recall@5 (상위 5건 재현율)", "질문 하나에 검색 결과 상위 5건 안에 정답 근거(정답 문서의 정답 조문·쪽, 또는 "
        "정답 구절을 "
     "대부분 담은 구절)가 들어 있는 질문의 비율. 0.95면 100개 질문 중 95개에서 담당자가 첫 화면에서 근거를 "
         "찾는다는 뜻. "
     "Share of questions whose gold passage is among the first 5 results."),
    ("Recall@1 / @10", "같은 기준으로 1위 안에, 10위 안에 든 비율. Same, for the first result / the first 10."),
    ("MRR@10 (평균 역순위)", "정답이 처음 나온 순위의 역수 평균(1위=1, 2위=0.5, 3위=0.33 …, 10위 밖=0). 높을수록 "
        "정답이 위에 "
     "있다. Mean reciprocal rank of the first relevant result."),
    ("nDCG@10", "상위 10건 중 정답 근거가 위쪽에 많이 있을수록 1에 가까운 점수. Rank-weighted share of relevant "
        "results."),
    ("응답 시간 p50 / p95", "검색 1회에 걸린 시간의 중앙값과 95백분위(100번 중 95번은 이보다 빠름), 밀리초. "
     "Median and 95th-percentile search latency."),
    ("95% 신뢰구간 [하한–상한]", "질문을 다시 뽑아(부트스트랩 2,000회) 계산했을 때 값이 움직일 수 있는 범위. 질문 "
        "수가 적으면 넓다. "
     "Bootstrap 95% interval over questions."),
    ("답변 거절 정확도 / 잘못된 거절", "말뭉치에 답이 없는 질문에 '찾지 못했다'고 답한 비율(높을수록 좋음)과, "
        "답이 있는 질문을 "
     "거절한 비율(낮을수록 좋음). Abstention on unanswerable / false declines on answerable questions."),
    ("결론 일치 (법제처)", "법제처 회답의 결론(할 수 있다/없다, 해당한다/않는다)과 답변의 결론이 같은 비율. "
     "Conclusion (yes/no) agreement with the official 회답."),
    ("형태소 F1", "답변과 기준 답을 형태소(Kiwi)로 나눠 겹치는 정도. Morpheme-level token F1 against the reference."),
    ("인용 정확도 / 인용 재현율", "답변이 인용한 출처 중 정답 근거인 비율, 정답 근거를 하나라도 인용한 비율. "
     "Citation precision / recall against the gold passages."),
    ("근거 일치도 (groundedness)", "답변 문장 중, 그 문장이 인용한 출처에 문장의 핵심 형태소 절반 이상이 들어 "
        "있는 문장의 비율. "
     "Share of answer sentences supported by the passages they cite."),
    ("근거 없는 법조문 인용", "답변·초안에 적힌 '제N조' 가운데 제공된 근거 구절 어디에도 없는 조문 수 (목표 0). "
     "Article numbers in the output that no given passage contains."),
    ("개인정보 노출", "민원 본문에 심어 둔 전화번호·주민등록번호·주소·이름 등이 답변 초안에 그대로 남은 개수 (목표 0). "
     "Planted personal data left in reply drafts."),
    ("KLUE-STS 스피어만 상관", "사람이 매긴 문장 유사도(0–5)와 임베더 코사인 유사도의 순위 상관. 임베더가 한국어 "
        "의미를 "
     "구분하는지 보는 점검용. Spearman correlation on KLUE-STS dev."),
]


def _ci(m: dict[str, Any] | None) -> str:
    if not m or m.get("mean") is None:
        return "–"
    if m.get("lo") is None or m["lo"] == m["hi"]:
        return f"{m['mean']:.3f}"
    return f"{m['mean']:.3f} [{m['lo']:.2f}–{m['hi']:.2f}]"


def _ms(lat: dict[str, Any]) -> str:
    return "–" if lat.get("p50") is None else f"{lat['p50']:.0f} / {lat['p95']:.0f}"


def _row(rows: list[dict[str, Any]], config: str, mode: str, group: str, split: str = "all") -> dict[str, Any] | None:
    for r in rows:
        if r["config"] == config and r["mode"] == mode and r["group"] == group and r.get("split", "all") == split:
            return r
    return None


PEOPLE_GROUPS = (("people laws+welfare", "법령·복지"), ("people allganize (page)", "공공문서(쪽)"))


def headline(report: dict[str, Any]) -> list[str]:
    ret = report["retrieval"]
    pairs = list(dict.fromkeys((r["config"], r["mode"], r["label"]) for r in ret))
    splits = [s for s in ("dev", "blind") if any(r.get("split") == s and r["group"].startswith("people")
                                                 for r in ret)]
    people_cols = [(g, label, s) for g, label in PEOPLE_GROUPS for s in (splits or ["all"])]
    head = ["설정 · 검색 방식", "Recall@5 법령·복지 (기존 골드셋)", "Recall@5 공공문서(쪽) (기존)"]
    head += [f"Recall@5 {label} — 사람들의 말 ({s})" for _, label, s in people_cols]
    head += ["MRR@10 전체", "응답 ms p50 / p95"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for config, mode, label in pairs:
        lw, ag, al = (_row(ret, config, mode, g) for g in ("laws+welfare", "allganize (page)", "all"))
        cells = [f"**{config}** · {mode} — {label}", _ci(lw and lw["recall@5"]), _ci(ag and ag["recall@5"])]
        for g, _, sp in people_cols:
            r = _row(ret, config, mode, g, sp)
            cells.append(_ci(r and r["recall@5"]))
        cells += [_ci(al and al["mrr@10"]), _ms(al["latency_ms"]) if al else "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def target_lines(report: dict[str, Any]) -> list[str]:
    lines = ["| 목표 | 기준 | 달성 | 충족 | 차이 |", "|---|---|---|---|---|"]
    for t in report["targets"]:
        goal = t["goal"]
        higher = t["name"].startswith("recall5") or t["name"] in ("abstention_correct", "answer_first")
        goal_s = f"≥ {goal}" if higher else (f"≤ {goal}" if t["name"] == "false_abstention" else f"= {goal}")
        ach = "–" if t["achieved"] is None else f"{t['achieved']}"
        met = "–" if t["met"] is None else ("✅ 충족" if t["met"] else "❌ 미달")
        gap = "" if not t.get("gap") else f"{t['gap']:+.3f}".replace("+", "")
        lines.append(f"| {t['label']} | {goal_s} | {ach} | {met} | {gap} {t.get('note', '')} |")
    return lines


def per_set_lines(report: dict[str, Any]) -> list[str]:
    lines = ["| 설정 · 방식 | 골드셋 | 질문 수 | Recall@1 | Recall@5 | Recall@10 | MRR@10 | nDCG@10 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["retrieval"]:
        if r["group"] in ("all", "laws+welfare", "allganize (page)", "handwritten laws+welfare", "people all"):
            continue
        group = r["group"] if r.get("split", "all") == "all" else f"{r['group']} ({r['split']})"
        lines.append(f"| {r['config']} · {r['mode']} | {group} | {r['n']} | {_ci(r['recall@1'])} | "
                     f"{_ci(r['recall@5'])} | {_ci(r['recall@10'])} | {_ci(r['mrr@10'])} | {_ci(r['ndcg@10'])} |")
    return lines


def answer_lines(report: dict[str, Any]) -> list[str]:
    notes = [f"{c['name']}: {c['answer_note']}" for c in report["configs"] if c.get("answer_note")]
    if not report["answers"]:
        return [f"답변 평가 없음. {' '.join(notes)}".strip()]
    lines = ["| 설정 | 골드셋 | 답 없는 질문 거절 | 잘못된 거절 | 첫 문장에 핵심 | 핵심이 답변 어딘가에 | 결론 일치 | "
             "형태소 F1 | 인용 정확도 | 인용 재현율 | 근거 일치도 | LLM 채점 일치 | 근거 없는 조문 인용(건) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["answers"]:
        group = r["group"] if r.get("split", "all") == "all" else f"{r['group']} ({r['split']})"
        cells = [r["config"], group] + [_ci(r.get(m)) for m in (
            "abstention_correct", "false_abstention", "answer_first", "lead_anywhere", "conclusion_accuracy",
            "token_f1", "citation_precision", "citation_recall", "groundedness", "judge_agreement")]
        cells.append(str(r["answers_with_unsupported_citation"]))
        lines.append("| " + " | ".join(cells) + " |")
    curves = [r for r in report["answers"] if r["group"] == "people all" and r.get("gate_curve")]
    if curves:
        lines += ["", "답변 가능 여부 판단(gate)의 절충 곡선 — ASSISTANT_GATE_BIAS를 바꾸면 "
                  "(0 = dev에서 정한 기본값):", "",
                  "| 설정 (분할) | gate bias | 답 있는 질문 거절률 | 답 없는 질문 거절률 |", "|---|---|---|---|"]
        for r in curves:
            for bias, fd, cd in r["gate_curve"]:
                lines.append(f"| {r['config']} ({r.get('split', 'all')}) | {bias:+.1f} | {fd:.3f} | {cd:.3f} |")
    # a conclusion accuracy of 0 reads as "always wrong"; say when it is "never stated" instead
    silent = sorted({r["config"] for r in report["answers"]
                     if (r.get("conclusion_stated") or {}).get("mean") == 0})
    for config in silent:
        notes.append(f"{config}: 결론 일치 0은 답변이 결론(할 수 있다/없다, 해당한다/않는다)을 한 번도 직접 밝히지 "
                     "않았다는 뜻입니다. 추출형 생성기는 근거 문장을 인용할 뿐 법제처식 결론을 쓰지 않으므로, "
                     "이 지표는 언어 모델 생성기(openai-llm 설정 등)에서 의미가 있습니다")
    if notes:
        lines += ["", "참고: " + "; ".join(notes)]
    return lines


def task_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for config, tasks in report.get("tasks", {}).items():
        s = tasks.get("summaries", {})
        if s.get("note"):
            lines.append(f"- 요약: {s['note']}")
        t = s.get("totals") or {}
        if t:
            lines.append(f"- 요약 {t['cases']}건 합계: 핵심 사실 {t['fact_coverage']:.0%}, "
                         f"절 포함 {t['section_coverage']:.0%}, "
                         f"반복 사실 {t['repeated_facts']} (목표 0), 지어낸 숫자 {t['invented_numbers']} (0), "
                         f"개인정보 {t['pii_left']} (0), 기계 잡음 {t['noise']} (0)")
        for c in s.get("cases", []):
            lines.append(f"- 요약 {c['id']} ({c['source'].rsplit('/', 1)[-1]}): {c['lines']}줄 / 한도 "
                f"{c['max_lines']}줄 "
                         f"{'✅' if c['length_ok'] else '❌'}, 핵심 사실 포함 {c['fact_coverage']:.0%}")
        rp = tasks.get("replies", {})
        if rp.get("note"):
            lines.append(f"- 민원 답변: {rp['note']}")
        if rp.get("summary"):
            from eval.replies import summary_line

            lines.append(summary_line(rp["summary"]))
        for c in rp.get("cases", []):
            leaks = ", ".join(c["pii_leaks"]) or "없음"
            lines.append(f"- 민원 답변 {c['id']} ({c['complaint_type']}): 개인정보 노출 {leaks}; 필수 항목 "
                f"{c['sections_present']:.0%}; "
                         f"근거 없는 조문 {c['unsupported_articles']}건; 핵심 사실 {c['fact_coverage']:.0%}"
                         + (f"; 무관한 인용 {len(c['unrelated_citations'])}건, 표기 위반 "
                            f"{len(c['notation_violations'])}건" if "unrelated_citations" in c else ""))
        rd = tasks.get("reports", {})
        if rd.get("note"):
            lines.append(f"- 보고서 초안: {rd['note']}")
        if rd.get("totals"):
            from eval.report_drafts import summary_line as report_line

            lines.append(report_line(rd["totals"]))
        if lines:
            lines.insert(0, f"설정 `{config}`:")
    return lines or ["요약·민원 답변 평가 없음."]


def failures(per_q: dict[str, Any], limit: int = 12) -> list[str]:
    misses = [q for q in per_q["retrieval"] if q["config"] == "default" and q["mode"] == "hybrid" and q["recall@5"] < 1]
    lines = [f"기본 설정(hybrid)에서 상위 5건 안에 근거가 없던 질문 {len(misses)}개 중 {min(limit, len(misses))}개 "
             "(전체 목록: per_question.jsonl):", ""]
    for q in misses[:limit]:
        lines.append(f"- `{q['id']}` ({q['set']}): 상위 결과 {'; '.join(q['top']) or '없음'}")
    return lines


def render_markdown(report: dict[str, Any], charts: list[str], per_q: dict[str, Any]) -> str:
    meta = report["meta"]
    out = ["# 평가 보고서 — AI 행정비서", "",
           f"생성 {meta['created']} · 분할 **{meta['split']}** · 질문 {meta['questions']}개 · 소요 "
               f"{meta['seconds']}초", "",
           "## 한눈에 보기 (headline)", "", *headline(report), "",
           "값 옆 괄호는 95% 신뢰구간입니다. **default**가 제품 기본 설정이고, **baseline-naive**는 공백 단위 "
               "BM25와 500자 "
           "고정 분할로 만든 단순 기준선입니다. 법령·복지는 법제처 해석례·민원처리법·행정 4법·복지서비스 질문, "
               "공공문서는 "
           "정부 발간 PDF 12종의 쪽 단위 질문입니다.", "",
           "## 목표 대비 달성", "", *target_lines(report), ""]
    out += [f"![{c}]({c})" for c in charts] + [""]
    out += ["## 지표 설명 (what each figure means)", ""]
    out += [f"- **{name}** — {text}" for name, text in EXPLAIN] + [""]
    out += ["## 골드셋별 검색 결과", "", *per_set_lines(report), "", "## 답변 평가", "", *answer_lines(report), "",
            "## 요약·민원 답변", "", *task_lines(report), ""]
    if report.get("sts"):
        out += ["## 임베더 점검 (KLUE-STS dev)", "", "| 임베더 | 쌍 | 스피어만 ρ [95% CI] | 정책브리핑 문장만 "
            "|", "|---|---|---|---|"]
        for s in report["sts"]:
            out.append(f"| {s['embedder']} {s['model']} | {s['pairs']} | {s['spearman']:.3f} "
                f"[{s['ci'][0]:.2f}–{s['ci'][1]:.2f}] | "
                       f"{s['spearman_policy']:.3f} |")
        out.append("")
    out += ["## 설정", "", "| 설정 | 상태 | 설명 | 색인 |", "|---|---|---|---|"]
    for c in report["configs"]:
        idx = "; ".join(f"{i['corpus']} {i.get('chunks', '?')}청크{' (재사용)' if i.get('reused') else ''}"
                        for i in c["indexes"])
        out.append(f"| {c['name']} | {c['status']}{(' — ' + c['note']) if c['note'] else ''} | "
            f"{c['description']} | {idx} |")
    out += ["", "## 놓친 질문 (검토용)", "", *failures(per_q), "",
            "## 골드셋 구성", "", "| 골드셋 | 질문 수(이 분할) | 답 없는 질문 |", "|---|---|---|"]
    for name, c in meta.get("counts", {}).items():
        out.append(f"| {name} | {c['questions']} | {c['unanswerable']} |")
    out += ["", "관련성 판정: 검색 결과가 정답 문서의 정답 위치(조문 제N조 또는 쪽)에서 왔거나, 정답 발췌문의 "
        "문자 3-gram을 "
            "60% 이상 담고 있으면 정답으로 봅니다. 청크 크기와 무관한 기준이라 기준선과 같은 잣대로 비교됩니다.", ""]
    return "\n".join(out)
