// The chat page: conversations, mode selector, scope, streaming answers with numbered citations,
// the source panel with the cited text highlighted, copy and feedback.
"use strict";
(function () {
  const { el, icon, api, stream, fmtDate, copyText } = AHB;
  const $ = (id) => document.getElementById(id);
  const MODE_LABEL = { ask: "질의응답", summarize: "문서 요약", draft: "민원 답변 초안", report: "보고서 초안" };
  const MODE_HINT = {
    ask: "질의응답: 등록된 문서에서 근거를 찾아 번호를 붙여 답합니다.",
    summarize: "문서 요약: 범위에서 고른 문서를 요약하거나, 붙여넣은 글을 개조식으로 요약합니다.",
    draft: "민원 답변 초안: 민원 내용을 붙여넣으면 유형·처리기한과 근거 법령을 갖춘 답변서 초안을 만듭니다.",
    report: "보고서 초안: 범위에서 출처 문서를 고르고(고르지 않으면 주제로 검색) 주제를 적으면 출처 번호가 붙은 개조식 보고서를 만듭니다. '보도자료'를 주제에 넣으면 보도자료 양식으로 씁니다.",
  };
  const PLACEHOLDER = {
    ask: "질문을 입력하세요 (Enter 보내기, Shift+Enter 줄바꿈)",
    summarize: "요약할 글을 붙여넣거나, 위에서 문서를 고른 뒤 비워 두고 보내세요",
    draft: "민원 내용을 붙여넣으세요",
    report: "보고서 주제를 적으세요 (예: 2024년 2월 재정동향 보고) — 위 범위에서 출처 문서를 고를 수 있습니다",
  };
  const PLACEHOLDER_SHORT = { ask: "질문을 입력하세요", summarize: "요약할 글 (문서를 골랐으면 비워 두기)", draft: "민원 내용을 붙여넣으세요", report: "보고서 주제" };
  const narrow = window.matchMedia("(max-width: 760px)");
  const state = { convId: null, mode: "ask", index: document.body.dataset.defaultIndex || "", docIds: [], docs: [], busy: false, activeCite: null };

  // ------------------------------------------------------------------ conversations
  async function loadConversations() {
    const data = await api("GET", "/api/conversations");
    const list = $("conv-list");
    list.replaceChildren();
    if (!data.conversations.length) list.append(el("li", { class: "conv-empty", text: "저장된 대화가 없습니다." }));
    for (const c of data.conversations) {
      const li = el("li", { class: c.id === state.convId ? "active" : "", dataset: { id: c.id } },
        el("button", { class: "conv-open", type: "button", title: c.title, onclick: () => openConversation(c.id) },
          c.title, el("span", { class: "conv-mode", text: `${MODE_LABEL[c.mode] || ""} · ${fmtDate(c.updated_at).slice(5)}` })),
        el("span", { class: "conv-actions" },
          el("button", { class: "btn ghost small", type: "button", "aria-label": `'${c.title}' 이름 바꾸기`, title: "이름 바꾸기", onclick: () => rename(c) }, icon("edit")),
          el("button", { class: "btn ghost small", type: "button", "aria-label": `'${c.title}' 삭제`, title: "삭제", onclick: () => remove(c) }, icon("trash"))));
      list.append(li);
    }
  }

  async function rename(c) {
    const title = prompt("대화 이름", c.title);
    if (!title || !title.trim()) return;
    await api("PATCH", `/api/conversations/${c.id}`, { title: title.trim() });
    loadConversations();
  }

  async function remove(c) {
    if (!confirm(`'${c.title}' 대화를 삭제할까요? 되돌릴 수 없습니다.`)) return;
    await api("DELETE", `/api/conversations/${c.id}`);
    if (state.convId === c.id) newChat();
    loadConversations();
  }

  async function openConversation(id) {
    const data = await api("GET", `/api/conversations/${id}`);
    state.convId = id;
    setMode(data.mode);
    if (data.index) { state.index = data.index; $("scope-index").value = data.index; await loadDocs(); }
    state.docIds = data.doc_ids || [];
    syncDocChecks();
    const inner = $("messages-inner");
    inner.replaceChildren();
    let lastQuestion = "";
    for (const m of data.messages) {
      if (m.role === "user") { lastQuestion = m.content; inner.append(userBubble(m.content)); }
      else inner.append(assistantBubble(m.mode, lastQuestion, m));
    }
    closePanel();
    closeConversations();
    loadConversations();
    scrollDown();
  }

  function newChat() {
    state.convId = null;
    $("messages-inner").replaceChildren(welcome);
    closePanel();
    closeConversations();
    loadConversations();
    $("prompt").focus();
  }

  // ------------------------------------------------------------------ scope
  async function loadDocs() {
    const box = $("doc-options");
    try {
      const data = await api("GET", "/api/documents?index=" + encodeURIComponent(state.index));
      state.docs = data.documents;
    } catch (e) { state.docs = []; }
    box.replaceChildren();
    for (const d of state.docs) {
      const id = "doc-" + d.doc_id;
      box.append(el("label", { for: id, dataset: { title: d.title.toLowerCase() } },
        el("input", { type: "checkbox", id, value: d.doc_id, onchange: onDocCheck }),
        el("span", {}, d.title, " ", AHB.levelBadge(d.access_level, d.department))));
    }
    syncDocChecks();
  }

  function onDocCheck() {
    state.docIds = Array.from(document.querySelectorAll("#doc-options input:checked")).map((i) => i.value);
    syncDocChecks();
  }

  function syncDocChecks() {
    document.querySelectorAll("#doc-options input").forEach((i) => { i.checked = state.docIds.includes(i.value); });
    const n = state.docIds.length;
    const first = state.docs.find((d) => d.doc_id === state.docIds[0]);
    $("scope-summary").textContent = n === 0 ? "모든 문서" : n === 1 && first ? `문서: ${first.title.slice(0, 24)}` : `선택한 문서 ${n}개`;
  }

  // ------------------------------------------------------------------ messages
  function userBubble(text) {
    return el("div", { class: "msg msg-user" }, el("div", { class: "bubble", text }));
  }

  function assistantBubble(mode, question, m) {
    const answer = el("div", { class: "answer" });
    const sources = el("div", { class: "sources", hidden: true });
    const meta = el("div", { class: "meta-line", hidden: true });
    const tools = el("div", { class: "msg-tools", hidden: true });
    const bubble = el("div", { class: "bubble" }, meta, answer, sources, tools);
    const node = el("article", { class: "msg msg-assistant", "aria-label": "답변" },
      el("div", { class: "msg-meta", text: `AI 행정비서 · ${MODE_LABEL[mode] || ""}` }), bubble);
    const view = { node, bubble, answer, sources, meta, tools, citations: [], text: "", messageId: null, question, mode };
    node._view = view;
    if (m) finish(view, m.content, m.citations || [], m.abstained, m.id, m.rating);
    return node;
  }

  // Answers are shown as a safe Markdown subset (AHB.markdown builds text nodes); [n] become citation buttons.
  const withCites = (view) => (text) => answerNodes(text, view.citations, view);
  function renderAnswer(view) {
    view.answer.replaceChildren(AHB.markdown(view.text, withCites(view)));
  }

  // A finished answer: the sentence that answers (up to its citation markers) first, set apart; then the
  // supporting text. Only when the answer opens with a plain sentence (not a heading, list or table).
  const LEAD_END = /[.!?。…](?:\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\])*(?=\s|$)/;
  const BLOCK_START = /^\s*(?:#|\||[-*•]\s|(?:\d{1,3}|[가-하])[.)]\s|\(|[①-⑳□■○●◦▪※])/;
  function renderFinished(view) {
    const m = view.mode === "ask" && !view.abstained ? LEAD_END.exec(view.text) : null;
    const cut = m ? m.index + m[0].length : 0;
    const head = view.text.slice(0, cut);
    if (!m || head.includes("\n") || BLOCK_START.test(head) || cut >= view.text.trim().length) { renderAnswer(view); return; }
    const lead = el("p", { class: "lead" }, ...AHB.inlineMarkdown(head.trim(), withCites(view)));
    const rest = el("div", { class: "support" }, AHB.markdown(view.text.slice(cut).trim(), withCites(view)));
    view.answer.replaceChildren(lead, rest);
  }

  // Split "…문장 [1][2] …" into text nodes and citation buttons.
  function answerNodes(text, citations, view) {
    const out = [];
    const rx = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;
    let last = 0, m;
    while ((m = rx.exec(text))) {
      if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
      for (const num of m[1].split(",").map((s) => parseInt(s.trim(), 10))) {
        const c = citations.find((x) => x.n === num);
        out.push(c ? citeButton(c, view) : document.createTextNode(`[${num}]`));
      }
      last = rx.lastIndex;
    }
    if (last < text.length) out.push(document.createTextNode(text.slice(last)));
    return out;
  }

  function citeButton(c, view) {
    return el("button", { class: "cite", type: "button", "aria-label": `출처 ${c.n}: ${c.title} ${c.location || ""}`, title: `${c.title} ${c.location || ""}`,
      onclick: (e) => openCitation(c, view, e.currentTarget) }, String(c.n));
  }

  function renderSources(view) {
    const used = view.citations;
    view.sources.hidden = !used.length;
    if (!used.length) return;
    const heading = view.abstained ? "가까운 자료 (답변 근거 아님)" : "출처";
    view.sources.replaceChildren(el("h3", { text: heading }), el("ol", {}, used.map((c) =>
      el("li", {}, el("button", { type: "button", onclick: (e) => openCitation(c, view, e.currentTarget) },
        el("span", { class: "n", text: `[${c.n}]` }), c.title, c.location ? ` · ${c.location}` : "")))));
  }

  function finish(view, text, citations, abstained, messageId, rating) {
    view.text = text; view.citations = citations; view.messageId = messageId || null; view.abstained = !!abstained;
    view.answer.classList.remove("streaming");
    view.bubble.classList.toggle("abstain", !!abstained);
    renderFinished(view); renderSources(view); renderTools(view, rating);
  }

  function renderTools(view, rating) {
    const copy = el("button", { class: "btn ghost small", type: "button", onclick: async () => {
      const refs = view.citations.map((c) => `[${c.n}] ${c.title}${c.location ? " " + c.location : ""}`).join("\n");
      const ok = await copyText(view.text + (refs ? "\n\n출처\n" + refs : ""));
      copy.lastChild.textContent = ok ? " 복사됨" : " 복사 실패";
      setTimeout(() => { copy.lastChild.textContent = " 복사"; }, 1800);
    } }, icon("copy"), el("span", { text: " 복사" }));
    const items = [copy];
    if (view.mode === "draft") {
      for (const fmt of ["hwpx", "docx"]) {
        const label = `${fmt.toUpperCase()} 내려받기`;
        const btn = el("button", { class: "btn ghost small", type: "button", "data-export": fmt, onclick: async () => {
          try {
            const resp = await api("POST", "/api/exports/draft-reply", { text: view.text, format: fmt });
            const m = /filename\*=UTF-8''([^;]+)/.exec(resp.headers.get("content-disposition") || "");
            const a = el("a", { href: URL.createObjectURL(await resp.blob()), download: m ? decodeURIComponent(m[1]) : `draft.${fmt}` });
            document.body.append(a); a.click(); a.remove(); setTimeout(() => URL.revokeObjectURL(a.href), 10000);
          } catch (err) { btn.textContent = "내려받기 실패"; btn.title = err.message; setTimeout(() => { btn.textContent = label; }, 2500); }
        } }, label);
        items.push(btn);
      }
    }
    if (view.mode === "report") items.push(...AHB_REPORT.exportButtons(view, api, el));
    if (view.mode === "ask" && !view.abstained) {
      items.push(el("button", { class: "btn ghost small", type: "button", title: "근거를 더 보여 줍니다",
        onclick: () => send("자세히 알려 주세요") }, "자세히"));
    }
    if (view.messageId) {
      const form = el("form", { class: "feedback-form", hidden: true });
      const comment = el("input", { type: "text", placeholder: "의견 (선택) — 무엇이 좋았거나 틀렸나요?", "aria-label": "평가 의견", maxlength: 2000 });
      const up = el("button", { class: "btn ghost small", type: "button", "aria-pressed": rating === 1 ? "true" : "false", "aria-label": "도움이 됨", title: "도움이 됨" }, icon("up"), " 도움됨");
      const down = el("button", { class: "btn ghost small", type: "button", "aria-pressed": rating === -1 ? "true" : "false", "aria-label": "도움이 안 됨", title: "도움이 안 됨" }, icon("down"), " 아쉬움");
      let current = rating || 0;
      const send = async (value, text) => {
        await api("POST", `/api/messages/${view.messageId}/feedback`, { rating: value, comment: text || "" });
        current = value;
        up.setAttribute("aria-pressed", value === 1 ? "true" : "false");
        down.setAttribute("aria-pressed", value === -1 ? "true" : "false");
      };
      up.addEventListener("click", async () => { await send(1); form.hidden = false; comment.focus(); });
      down.addEventListener("click", async () => { await send(-1); form.hidden = false; comment.focus(); });
      form.append(comment, el("button", { class: "btn secondary small", type: "submit" }, "의견 보내기"));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        await send(current || 1, comment.value);
        form.replaceChildren(el("span", { class: "small muted", text: "의견을 보냈습니다. 고맙습니다." }));
      });
      items.push(up, down, form);
    }
    view.tools.replaceChildren(...items);
    view.tools.hidden = false;
  }

  // ------------------------------------------------------------------ citation panel
  function openCitation(c, view, button) {
    document.querySelectorAll(".cite.active").forEach((b) => b.classList.remove("active"));
    if (button && button.classList.contains("cite")) button.classList.add("active");
    $("panel-title").textContent = `[${c.n}] ${c.title}`;
    $("panel-loc").textContent = [c.location, c.file_name].filter(Boolean).join(" · ");
    const quotes = (c.quotes && c.quotes.length) ? c.quotes : citedSegments(view.text, c.n);
    $("panel-text").replaceChildren(...highlighted(c.text || "", quotes));
    const file = $("panel-file");
    file.replaceChildren();
    if (c.file_url) file.append(el("a", { href: c.file_url, class: "btn secondary small", download: c.file_name || true }, "원문 파일 내려받기"));
    panelOpener = button || null;
    $("chat-layout").classList.add("panel-open");
    $("panel").focus();
    const mark = $("panel-text").querySelector("mark");
    if (mark) mark.scrollIntoView({ block: "center" });
  }

  let panelOpener = null;
  function closePanel() {
    const wasOpen = $("chat-layout").classList.contains("panel-open");
    $("chat-layout").classList.remove("panel-open");
    document.querySelectorAll(".cite.active").forEach((b) => b.classList.remove("active"));
    if (wasOpen && panelOpener && panelOpener.isConnected) panelOpener.focus();
    panelOpener = null;
  }

  // ------------------------------------------------------------------ conversation drawer (narrow screens)
  function openConversations() {
    $("chat-layout").classList.add("convs-open");
    $("conv-toggle").setAttribute("aria-expanded", "true");
    $("new-chat").focus();
  }

  function closeConversations() {
    const layout = $("chat-layout");
    if (!layout.classList.contains("convs-open")) return;
    layout.classList.remove("convs-open");
    $("conv-toggle").setAttribute("aria-expanded", "false");
    if (getComputedStyle($("conv-toggle")).display !== "none") $("conv-toggle").focus();
  }

  // The pieces of the answer that cite source n: the text before each [n] marker back to the previous marker
  // or sentence boundary.
  function citedSegments(text, n) {
    const out = [];
    const rx = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;
    let last = 0, m;
    while ((m = rx.exec(text))) {
      const nums = m[1].split(",").map((s) => parseInt(s.trim(), 10));
      const seg = text.slice(last, m.index);
      if (nums.includes(n)) out.push(seg.replace(/\*\*|`/g, "").replace(/^[\s.,·)\]#|-]+/, "").trim());
      last = rx.lastIndex;
    }
    return out.filter((s) => s.length >= 4);
  }

  const norm = (s) => s.replace(/\s+/g, " ");

  // Highlight where the cited sentences occur in the passage (whole sentence, else its clauses).
  function highlighted(passage, segments) {
    const ranges = [];
    const hay = passage;
    const find = (needle) => {
      const words = norm(needle).trim().split(" ").map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      if (!words.join("")) return false;
      const rx = new RegExp(words.join("\\s+"));
      const m = rx.exec(hay);
      if (m) { ranges.push([m.index, m.index + m[0].length]); return true; }
      return false;
    };
    for (const seg of segments) {
      for (const sentence of seg.split(/(?<=[.?!。])\s+|\n+/)) {
        const s = sentence.trim();
        if (s.length < 4 || find(s)) continue;
        for (const part of s.split(/[,，;·]|\s(?:및|또는)\s/)) if (part.trim().length >= 8) find(part.trim());
      }
    }
    ranges.sort((a, b) => a[0] - b[0]);
    const nodes = [];
    let pos = 0;
    for (const [s, e] of ranges) {
      if (s < pos) continue;
      if (s > pos) nodes.push(document.createTextNode(hay.slice(pos, s)));
      nodes.push(el("mark", { text: hay.slice(s, e) }));
      pos = e;
    }
    if (pos < hay.length) nodes.push(document.createTextNode(hay.slice(pos)));
    return nodes;
  }

  // ------------------------------------------------------------------ sending
  async function send(text) {
    if (state.busy) return;
    text = (text || "").trim();
    if (!text && !(state.mode === "summarize" && state.docIds.length)) { $("prompt").focus(); return; }
    state.busy = true;
    $("send").disabled = true;
    const inner = $("messages-inner");
    if (welcome.isConnected) welcome.remove();
    const shown = text || "선택한 문서를 요약해 주세요.";
    inner.append(userBubble(shown));
    const node = assistantBubble(state.mode, shown);
    const view = node._view;
    view.answer.classList.add("streaming");
    view.answer.textContent = state.mode === "ask" ? "근거를 찾는 중…" : "작성 중…";
    inner.append(node);
    scrollDown();
    $("prompt").value = ""; autosize();
    let started = false;
    try {
      const extra = state.mode === "report" ? AHB_REPORT.requestFields() : {};   // 보고서/보도자료 and its fields
      await stream("/api/chat/stream", { conversation_id: state.convId, mode: state.mode, text, index: state.index, doc_ids: state.docIds, ...extra }, (ev) => {
        if (ev.type === "conversation") { state.convId = ev.id; }
        else if (ev.type === "citations") { view.citations = ev.citations; }
        else if (ev.type === "meta" && ev.report_title) {
          view.meta.hidden = false; view.reportTitle = ev.report_title; view.kind = ev.kind;
          view.meta.textContent = `${ev.kind} 초안: ${ev.report_title} · [n]은 붙임 출처 목록의 번호`;
        } else if (ev.type === "meta") {
          view.meta.hidden = false;
          const due = ev.deadline && (ev.deadline.due_at || ev.deadline.due);
          view.meta.textContent = `민원 유형: ${ev.complaint_type || "-"} · 처리기한: ${due || "-"}${ev.deadline && ev.deadline.period_article ? " (" + ev.deadline.period_article + ")" : ""}`;
        } else if (ev.type === "token") {
          if (!started) { view.text = ""; started = true; }
          view.text += ev.text; renderAnswer(view); scrollDown();
        } else if (ev.type === "done") {
          finish(view, ev.answer, ev.citations, ev.abstained, ev.message_id, null);
        } else if (ev.type === "error") {
          view.answer.classList.remove("streaming");
          view.answer.replaceChildren(el("div", { class: "notice error", role: "alert", text: ev.message }));
        }
      });
    } catch (e) {
      view.answer.classList.remove("streaming");
      view.answer.replaceChildren(el("div", { class: "notice error", role: "alert", text: e.message }));
    } finally {
      state.busy = false;
      $("send").disabled = false;
      loadConversations();
      $("prompt").focus();
    }
  }

  function scrollDown() { const box = $("messages"); box.scrollTop = box.scrollHeight; }
  function autosize() { const t = $("prompt"); t.style.height = "auto"; t.style.height = Math.min(t.scrollHeight, window.innerHeight * 0.4) + "px"; }

  function setMode(mode) {
    state.mode = MODE_LABEL[mode] ? mode : "ask";
    const radio = $("mode-" + state.mode); if (radio) radio.checked = true;
    $("mode-hint").textContent = MODE_HINT[state.mode];
    $("prompt").placeholder = (narrow.matches ? PLACEHOLDER_SHORT : PLACEHOLDER)[state.mode];
    $("prompt-label").textContent = MODE_LABEL[state.mode] + " 입력";
    $("prompt").required = state.mode !== "summarize";
  }

  // ------------------------------------------------------------------ wiring
  const welcome = $("welcome");
  document.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener("change", () => setMode(r.value)));
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); send($("prompt").value); });
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send($("prompt").value); }
  });
  $("prompt").addEventListener("input", autosize);
  $("new-chat").addEventListener("click", newChat);
  $("panel-close").addEventListener("click", closePanel);
  $("conv-toggle").addEventListener("click", openConversations);
  $("conv-close").addEventListener("click", closeConversations);
  $("scrim").addEventListener("click", () => { closePanel(); closeConversations(); });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { closePanel(); closeConversations(); $("scope-docs").open = false; }
  });
  $("scope-index").addEventListener("change", async (e) => { state.index = e.target.value; state.docIds = []; await loadDocs(); });
  $("scope-clear").addEventListener("click", () => { state.docIds = []; syncDocChecks(); });
  $("doc-filter").addEventListener("input", (e) => {
    const q = e.target.value.trim().toLowerCase();
    document.querySelectorAll("#doc-options label").forEach((l) => { l.hidden = q && !l.dataset.title.includes(q); });
  });
  $("examples").addEventListener("click", (e) => {
    const b = e.target.closest("button"); if (!b) return;
    setMode(b.dataset.mode || "ask"); send(b.textContent);
  });
  narrow.addEventListener("change", () => setMode(state.mode));
  setMode("ask");
  loadConversations();
  loadDocs();
})();
