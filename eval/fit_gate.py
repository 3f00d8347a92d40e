"""Fit the answerability gate (assistant/tasks/gate_model.json) on the dev split, and show its trade-off.

    python -m eval.fit_gate                 # fit on dev, write the model, print the dev trade-off curve
    python -m eval.fit_gate --check         # print the curve of the current model on dev (nothing written)

Data: every dev question of every gold set, asked against its own corpus (answerable / not, as labelled),
plus *cross-corpus* questions — dev questions of one corpus asked against another (a welfare question put
to the statutes), which no passage there answers. Those are easy negatives and weigh a fifth; the labelled
near misses ("자동차 정기검사 과태료" where the corpus has only a fee discount) are the hard ones.

Two logistic models (L2-regularised, features standardised): ``semantic`` uses every feature of
:class:`assistant.tasks.gate.Evidence`; ``lexical`` leaves out the semantic ones and decides while an
index's semantic vectors are not filled yet. The operating point is the lowest threshold at which at most
5 % of the dev answerable questions are declined, if that still declines most unanswerable ones; the
blind split is never read here (``assistant eval`` reports the gate on it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from assistant.tasks.gate import FEATURES, LEXICAL_FEATURES, MODEL_FILE, LogisticModel, load_models
from eval.corpora import SET_CORPUS, corpus_spec, default_corpus_root
from eval.evalconfig import load_config
from eval.retrieval import ensure_index
from eval.runner import ALL_SETS, load_gold

MAX_FALSE_DECLINE = 0.05
CROSS_WEIGHT = 0.2
L2 = 1.0


def collect(split: str, work: Path, log: Any = print) -> list[dict[str, Any]]:
    """Evidence for every question of ``split`` against its own corpus and (as negatives) the others."""
    from assistant.generate.extractive import ExtractiveGenerator
    from assistant.retrieve.search import open_retriever
    from assistant.tasks.ask import AskService

    settings = load_config("default").make_settings()
    rows = load_gold(list(ALL_SETS), split)
    corpora = sorted({SET_CORPUS[r["set"]] for r in rows})
    services = {}
    for name in corpora:
        spec = corpus_spec(name, default_corpus_root(), work / "derived")
        info = ensure_index(settings, spec, work, log)
        services[name] = AskService(open_retriever(info.settings, info.settings.index_name),
                                    ExtractiveGenerator(), info.settings)
    out = []
    for r in rows:
        own = SET_CORPUS[r["set"]]
        for name, service in services.items():
            if name != own and (r["set"] == "moleg-interpretations-qa" or not r.get("answerable", True)):
                continue  # cross-corpus negatives from answerable hand-written questions only
            ev, _ = service.evidence(r["question"])
            out.append({"id": r["id"], "set": r["set"], "corpus": name, "cross": name != own,
                        "answerable": bool(r.get("answerable", True)) and name == own, "evidence": ev})
    return out


def _matrix(data: list[dict[str, Any]], features: tuple[str, ...]) -> np.ndarray:
    return np.array([[float(getattr(d["evidence"], f)) if getattr(d["evidence"], f) is not None else np.nan
                      for f in features] for d in data], dtype=np.float64)


def fit(data: list[dict[str, Any]], features: tuple[str, ...]) -> LogisticModel:
    x = _matrix(data, features)
    keep = ~np.isnan(x).any(axis=1)
    x = x[keep]
    y = np.array([d["answerable"] for d in data], dtype=np.float64)[keep]
    w = np.array([CROSS_WEIGHT if d["cross"] else 1.0 for d in data])[keep]
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    z1 = np.hstack([z, np.ones((len(z), 1))])
    beta = np.zeros(z1.shape[1])
    for _ in range(100):   # Newton's method on the weighted, L2-penalised log-likelihood
        p = 1 / (1 + np.exp(-(z1 @ beta)))
        grad = z1.T @ (w * (p - y)) + L2 * np.r_[beta[:-1], 0.0]
        hess = (z1.T * (w * p * (1 - p))) @ z1 + L2 * np.diag(np.r_[np.ones(len(beta) - 1), 0.0])
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    model = LogisticModel(features, tuple(mean.round(6)), tuple(scale.round(6)), tuple(beta[:-1].round(6)),
                          float(round(beta[-1], 6)), 0.5)
    return LogisticModel(features, model.mean, model.scale, model.coef, model.intercept,
                         operating_point(model, [d for d, k in zip(data, keep, strict=True) if k]))


def curve(model: LogisticModel, data: list[dict[str, Any]]) -> list[tuple[float, float, float]]:
    """(threshold, answerable declined, unanswerable declined) over own-corpus questions."""
    own = [d for d in data if not d["cross"]]
    probs = np.array([model.probability(d["evidence"]) for d in own])
    ans = np.array([d["answerable"] for d in own])
    out = []
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        declined = probs < t
        fd = float(declined[ans].mean()) if ans.any() else 0.0
        cd = float(declined[~ans].mean()) if (~ans).any() else 0.0
        out.append((float(t), fd, cd))
    return out


def operating_point(model: LogisticModel, data: list[dict[str, Any]]) -> float:
    """The threshold that declines most unanswerable questions while at most 5 % of the answerable ones are
    declined in *each* group of questions — those written the way people type (people-*) and the older,
    more formal sets — so the formal majority cannot buy a threshold the colloquial questions pay for."""
    people = [d for d in data if d["set"].startswith("people-")]
    groups = [people, [d for d in data if not d["set"].startswith("people-")]]
    curves = [curve(model, g) for g in groups if g]
    pooled = curve(model, data)
    ok = [(t, fd, cd) for i, (t, fd, cd) in enumerate(pooled)
          if all(c[i][1] <= MAX_FALSE_DECLINE for c in curves)]
    if not ok:
        return min(pooled, key=lambda x: max(c[pooled.index(x)][1] for c in curves))[0]
    # among thresholds within the false-decline budget, the one that declines most unanswerable questions
    return max(ok, key=lambda x: (x[2], -x[0]))[0]


def report(models: dict[str, LogisticModel], data: list[dict[str, Any]]) -> None:
    for name, model in models.items():
        usable = [d for d in data if name == "lexical" or d["evidence"].semantic is not None]
        print(f"\n모델 {name} (임계값 {model.threshold}) — dev 곡선: "
              "임계값 / 답 있는 질문 거절률 / 답 없는 질문 거절률")
        for t, fd, cd in curve(model, usable):
            mark = " ◀" if math.isclose(t, model.threshold) else ""
            print(f"  {t:.2f}  {fd:6.3f}  {cd:6.3f}{mark}")
        print("  계수: " + ", ".join(f"{f} {c:+.3f}" for f, c in zip(model.features, model.coef, strict=True))
              + f", 절편 {model.intercept:+.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="답변 가능 여부 판단 모델 적합 (dev 분할)")
    ap.add_argument("--work-dir", type=Path, default=Path("eval/reports/.cache"))
    ap.add_argument("--check", action="store_true", help="현재 모델의 dev 곡선만 출력")
    args = ap.parse_args(argv)
    data = collect("dev", args.work_dir)
    own = [d for d in data if not d["cross"]]
    print(f"dev: 자기 말뭉치 질문 {len(own)}개 (답 없음 {sum(not d['answerable'] for d in own)}), "
          f"교차 말뭉치 부정 예 {len(data) - len(own)}개")
    if args.check:
        report(load_models(), data)
        return 0
    models = {"semantic": fit([d for d in data if d["evidence"].semantic is not None], FEATURES),
              "lexical": fit(data, LEXICAL_FEATURES)}
    payload = {
        "fitted": date.today().isoformat(),
        "command": "python -m eval.fit_gate",
        "data": {"split": "dev", "questions": len(own), "unanswerable": sum(not d["answerable"] for d in own),
                 "cross_corpus_negatives": len(data) - len(own), "cross_weight": CROSS_WEIGHT, "l2": L2,
                 "max_false_decline": MAX_FALSE_DECLINE},
        "models": {name: {"features": list(m.features), "mean": list(m.mean), "scale": list(m.scale),
                          "coef": list(m.coef), "intercept": m.intercept, "threshold": m.threshold}
                   for name, m in models.items()},
    }
    MODEL_FILE.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"저장: {MODEL_FILE}")
    report(models, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
