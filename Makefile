# AI 행정비서 — the two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
ASSISTANT := $(VENV)/bin/assistant
SAMPLE_INDEX ?= default
# fonts-nanum: Korean PDF fixtures and the web app's font; chromium: the browser tests (Playwright drives it)
# tesseract-ocr(-kor, -osd): OCR of scanned PDFs and images (assistant/ocr)
# postgresql: the web tests also run on a throwaway PostgreSQL cluster (tests/web/pg.py)
DEBIAN_PACKAGES := fonts-nanum chromium tesseract-ocr tesseract-ocr-kor tesseract-ocr-osd postgresql
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install system-deps lint bench bench-web bench-server bench-fuzz bench-ocr eval sample-index clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# the CPU build of torch lies on this machine's disk; installing it first keeps pip from pulling CUDA builds
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -c constraints.txt -e '.[models,dev,bench]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (Korean fonts for PDF fixtures); installed only when missing
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# index the bundled samples on first run only (searchable at once; the server fills the e5 vectors in the
# background), then show an example search
sample-index: $(STAMP)
	@if [ ! -f indexes/$(SAMPLE_INDEX)/CURRENT ]; then \
	  $(ASSISTANT) ingest samples --index $(SAMPLE_INDEX) --semantic later; \
	fi

HOST ?= 127.0.0.1
PORT ?= 8000

run: sample-index
	$(ASSISTANT) search "민원 처리기간은 어떻게 계산하나요?" --index $(SAMPLE_INDEX) -k 3
	@# the web app on the sample index; on first start it creates 'admin' and prints its password once
	ASSISTANT_INDEX_NAME=$(SAMPLE_INDEX) $(ASSISTANT) serve --host $(HOST) --port $(PORT) --init-admin

# lint first: a finding of ruff or mypy fails the tests (and CI) like a failing test
test: $(STAMP) system-deps lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check assistant tests bench eval
	$(VENV)/bin/mypy assistant

# ingest/search (issue 2), ask latency (extractive), batch summaries of ../shared/corpus/allganize-public-docs
bench: $(STAMP)
	$(PY) bench/bench_search.py
	$(PY) bench/bench_ask.py
	$(PY) bench/bench_tasks.py

# 20 users asking the web app over loopback for 60 s (needs the sample index that `make run` builds)
bench-web: sample-index
	$(PY) bench/bench_web.py --index $(SAMPLE_INDEX)

# search and ask p50/p95 for 1 vs 20 users over a 100k-chunk index, one vs two threads per request (~6 min)
bench-server: $(STAMP)
	$(PY) bench/bench_server.py

# hostile input: 1,500 mutants of the shared corpus ingested in budgeted batches (~15 min; --files 100 for a smoke run)
bench-fuzz: $(STAMP)
	$(PY) bench/fuzz_ingest.py --files 1500 --batch-size 50

# OCR of rendered Korean 공문 pages: CER clean/noisy, table cells, pages/min → bench/out/ocr.json
bench-ocr: $(STAMP) system-deps
	$(PY) bench/bench_ocr.py

# full evaluation (all gold sets, dev and test/blind side by side, every configuration) → eval/reports/latest/report.md
eval: $(STAMP) system-deps
	$(ASSISTANT) eval --split all --out eval/reports/latest

clean:
	rm -rf $(VENV) .pytest_cache
