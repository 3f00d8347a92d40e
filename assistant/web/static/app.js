// Shared helpers for every page. Text from documents and answers is only ever inserted as text nodes
// (el() / textContent), never as HTML, so a document cannot inject markup or script into the page.
"use strict";

// A safe Markdown subset for answers, summaries and drafts, built as DOM nodes from text (never innerHTML),
// so markup inside a document or an answer shows as text. Blocks: paragraphs (line breaks kept), # headings,
// "- " bullets, lines starting with Korean item marks (1. 가. 1) 가) (1) ① □ ○ ※) kept as written, nested by
// indentation, and | tables. Inline: **bold** and `code`. ``inline(text)`` turns plain text into nodes (the
// chat page passes one that makes citation buttons of [1]).
const AHB_MARKDOWN = (function () {
  const HEADING = /^(#{1,6})\s+(.+?)\s*#*$/;
  const BULLET = /^[-*•]\s+(.*)$/;
  const MARK = /^((?:\d{1,3}|[가나다라마바사아자차카타파하])[.)]|\((?:\d{1,3}|[가나다라마바사아자차카타파하])\))\s+(.*)$|^([①-⑳□■○●◦▪※])\s*(.*)$/;
  const TABLE_SEP = /^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$/;
  const INLINE = /\*\*(?=\S)(.+?)\*\*|`([^`\n]+)`/g;
  const plain = (s) => [document.createTextNode(s)];

  function node(tag, cls) { const n = document.createElement(tag); if (cls) n.className = cls; return n; }

  function inline(text, toNodes) {
    toNodes = toNodes || plain;
    const out = [];
    const rx = new RegExp(INLINE.source, "g");
    let last = 0, m;
    while ((m = rx.exec(text))) {
      if (m.index > last) out.push(...toNodes(text.slice(last, m.index)));
      if (m[1] !== undefined) { const b = node("strong"); b.append(...toNodes(m[1])); out.push(b); }
      else { const c = node("code"); c.textContent = m[2]; out.push(c); }
      last = rx.lastIndex;
    }
    if (last < text.length) out.push(...toNodes(text.slice(last)));
    return out;
  }

  const cells = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());

  function table(rows, toNodes) {
    const wrap = node("div", "md-table"), tbl = node("table");
    const head = rows.length > 1 && TABLE_SEP.test(rows[1]) ? cells(rows[0]) : null;
    if (head) {
      const tr = node("tr");
      head.forEach((c) => { const th = node("th"); th.setAttribute("scope", "col"); th.append(...inline(c, toNodes)); tr.append(th); });
      const thead = node("thead"); thead.append(tr); tbl.append(thead);
    }
    const body = node("tbody");
    for (const r of rows.slice(head ? 2 : 0)) {
      const tr = node("tr");
      cells(r).forEach((c) => { const td = node("td"); td.append(...inline(c, toNodes)); tr.append(td); });
      body.append(tr);
    }
    tbl.append(body); wrap.append(tbl);
    return wrap;
  }

  function markdown(text, toNodes) {
    const frag = document.createDocumentFragment();
    const lines = String(text || "").replace(/\r\n?/g, "\n").split("\n");
    let para = null, lists = [];  // the open paragraph; the open lists, outermost first: {indent, ul, li}
    const body = (li) => li.querySelector(":scope > .md-line > .md-body");
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i].replace(/\t/g, "    ");
      const line = raw.trim();
      const indent = raw.length - raw.trimStart().length;
      if (!line) { para = null; lists = []; continue; }
      let m;
      if ((m = HEADING.exec(line))) {
        para = null; lists = [];
        const h = node("h" + Math.min(6, m[1].length + 2), "md-h"); h.append(...inline(m[2], toNodes)); frag.append(h);
        continue;
      }
      if (line.startsWith("|") && i + 1 < lines.length && lines[i + 1].trim().startsWith("|")) {
        const rows = [];
        while (i < lines.length && lines[i].trim().startsWith("|")) rows.push(lines[i++].trim());
        i--;
        para = null; lists = [];
        frag.append(table(rows, toNodes));
        continue;
      }
      const bullet = BULLET.exec(line), mark = !bullet && MARK.exec(line);
      if (bullet || mark) {
        para = null;
        while (lists.length && indent < lists[lists.length - 1].indent) lists.pop();
        let top = lists[lists.length - 1];
        if (!top || indent > top.indent) {
          const ul = node("ul", "md-list");
          (top ? top.li : frag).append(ul);
          lists.push(top = { indent, ul, li: null });
        }
        const li = node("li"), row = node("div", "md-line"), mk = node("span", "md-mark"), bd = node("span", "md-body");
        if (bullet) { mk.classList.add("bullet"); mk.setAttribute("aria-hidden", "true"); }
        else mk.textContent = mark[1] || mark[3];
        bd.append(...inline(bullet ? bullet[1] : (mark[2] !== undefined ? mark[2] : mark[4]), toNodes));
        row.append(mk, bd); li.append(row); top.ul.append(li); top.li = li;
        continue;
      }
      const item = lists.length && lists[lists.length - 1].li;
      if (item && indent > 0) { body(item).append(node("br"), ...inline(line, toNodes)); continue; }
      lists = [];
      if (para) para.append(node("br"));
      else { para = node("p"); frag.append(para); }
      para.append(...inline(line, toNodes));
    }
    return frag;
  }

  return { markdown, inline };
})();

const AHB = (function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  async function api(method, url, body, opts) {
    const headers = { "X-CSRF-Token": csrf(), Accept: "application/json" };
    let payload = body;
    if (body !== undefined && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const resp = await fetch(url, Object.assign({ method, headers, body: payload, credentials: "same-origin" }, opts || {}));
    if (resp.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("로그인이 필요합니다."); }
    if (!resp.ok) throw new Error(await errorText(resp));
    const type = resp.headers.get("content-type") || "";
    return type.includes("application/json") ? resp.json() : resp;
  }

  async function errorText(resp) {
    try {
      const data = await resp.json();
      const d = data.detail;
      if (typeof d === "string") return d;
      if (d && d.message) return d.message + (d.rejected ? " " + d.rejected.map((r) => r.reason).join(" ") : "");
      return JSON.stringify(d);
    } catch (e) { return `요청이 실패했습니다 (HTTP ${resp.status}).`; }
  }

  // POST that answers with text/event-stream; calls onEvent for each JSON "data:" line.
  async function stream(url, body, onEvent, signal) {
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin", signal,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    if (resp.status === 401) { location.href = "/login"; return; }
    if (!resp.ok) throw new Error(await errorText(resp));
    const reader = resp.body.getReader();
    const decoder = new TextDecoder("utf-8");
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
        if (data) onEvent(JSON.parse(data));
      }
    }
  }

  function notice(container, kind, text) {
    container.replaceChildren(el("div", { class: "notice " + kind, role: kind === "error" ? "alert" : "status", text }));
  }

  const fmtSize = (n) => n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : n >= 1024 ? Math.round(n / 1024) + " KB" : n + " B";
  const fmtDate = (s) => {
    if (!s) return "";
    const d = new Date(s);
    if (isNaN(d)) return s;
    const p = (x) => String(x).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  };

  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) {
      const ta = el("textarea", { style: "position:fixed;left:-9999px" }); ta.value = text;
      document.body.append(ta); ta.select();
      const ok = document.execCommand("copy"); ta.remove(); return ok;
    }
  }

  // A drop zone bound to a hidden file input; calls onFiles(FileList-like array) when files change.
  function dropzone(zone, input, onFiles) {
    let files = [];
    const set = (list) => { files = Array.from(list || []); onFiles(files); };
    zone.addEventListener("click", () => input.click());
    zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
    input.addEventListener("change", () => set(input.files));
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
    zone.addEventListener("drop", (e) => set(e.dataTransfer.files));
    if (input.files && input.files.length) set(input.files);  // chosen before this script ran
    return { files: () => files, clear: () => { input.value = ""; set([]); } };
  }

  // Files over the per-file limit are caught before anything is sent (the server refuses them too, but only
  // after receiving them).
  const withinLimit = (files, max) => ({ fits: files.filter((f) => f.size <= max), tooBig: files.filter((f) => f.size > max) });
  const tooBigMessage = (files, max) =>
    `파일이 너무 커서 올리지 않았습니다 (파일당 최대 ${Math.round(max / 1048576)}MB): ` +
    files.map((f) => `${f.name} (${fmtSize(f.size)})`).join(", ") + ". 파일을 나누거나 관리자에게 한도 조정을 요청하세요.";

  // Stroke icons drawn as inline SVG, so they look the same without an emoji font.
  const ICONS = {
    up: "M7 10v11H3V10h4zm0 0 4-8a2.5 2.5 0 0 1 2.5 2.5V8h5.2a2 2 0 0 1 2 2.3l-1.4 8.5a2 2 0 0 1-2 1.7H7",
    down: "M17 14V3h4v11h-4zm0 0-4 8a2.5 2.5 0 0 1-2.5-2.5V16H5.3a2 2 0 0 1-2-2.3l1.4-8.5a2 2 0 0 1 2-1.7H17",
    trash: "M4 7h16M9 7V4h6v3m-8 0 1 13h8l1-13",
    edit: "M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4",
    copy: "M9 9h11v11H9zM5 15H4V4h11v1",
  };
  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("class", "icon"); svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path"); path.setAttribute("d", ICONS[name]); svg.append(path);
    return svg;
  }

  // The index named in the settings is "기본 문서함" to people; other indexes keep their names.
  const indexLabel = (name) => (!name || name === document.body.dataset.defaultIndex ? "기본 문서함" : name);

  const levelBadge = (lv, dept) => el("span", { class: "badge lv-" + lv, text: lv + (lv === "부서" && dept ? " · " + dept : "") });
  const statusLabel = { queued: "대기", running: "처리 중", done: "완료", failed: "실패", ok: "성공", skipped: "건너뜀", unsupported: "형식 미지원" };

  return { el, icon, api, stream, notice, fmtSize, fmtDate, copyText, dropzone, levelBadge, statusLabel, indexLabel,
    withinLimit, tooBigMessage, markdown: AHB_MARKDOWN.markdown, inlineMarkdown: AHB_MARKDOWN.inline };
})();

// For tests and the console: the answer renderer on a plain string (returns a DocumentFragment).
window.renderMarkdown = (text) => AHB.markdown(text);
