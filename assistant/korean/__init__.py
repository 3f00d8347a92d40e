"""Korean language logic in one place: morphemes, sentences, statute and citation patterns, scoring.

Ingest, retrieval, the answerability gate, the generators and the evaluation all use these modules, so a
rule (which morphemes are content words, where a sentence ends, what a 제N조 label looks like, how a term is
weighted) is defined once:

- :mod:`assistant.korean.morph`      Kiwi, content morphemes (BM25 terms), question terms, stop terms
- :mod:`assistant.korean.sentences`  sentence splitting (Kiwi, a rough pre-split, a dependency-free fallback)
- :mod:`assistant.korean.statute`    제N조/항/호 labels, 「법령명」 references, law-name keys, locations
- :mod:`assistant.korean.scoring`    IDF, BM25 over a handful of texts, TF-IDF vectors, cosine, typo similarity
- :mod:`assistant.korean.lexicon`    everyday words ↔ the words of statutes and guides (며칠 ↔ 기간·이내)
- :mod:`assistant.korean.questions`  what a question asks (기간, 금액, 대상, 방법, 가능 여부, 장소, 서류, 정의)
- :mod:`assistant.korean.injection`  sentences in a document that address the assistant (prompt injection)

Everything here is pure except the process-wide Kiwi instance in :mod:`morph`.
"""
