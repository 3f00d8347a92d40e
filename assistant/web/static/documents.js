// Documents page: drag & drop upload, ingest progress, list, access level (changed only after a confirmation),
// delete.
"use strict";
(function () {
  const { el, api, notice, fmtSize, fmtDate, levelBadge, statusLabel, indexLabel } = AHB;
  const $ = (id) => document.getElementById(id);
  // The levels this user may give, lowest first (the server's order; higher ones are refused for non-admins).
  const LEVELS = Array.from($("up-level").options).map((o) => o.value);
  const myDept = $("up-dept").defaultValue, myClearance = $("upload-form").dataset.clearance;
  let docs = [];

  // Who may read a document at a level (the rule in assistant/retrieve/filters.py).
  function whoCanSee(level, dept) {
    if (level === "공개") return "모든 사용자가 볼 수 있습니다.";
    if (level === "부서") return dept ? `'${dept}' 소속으로 '부서' 등급을 가진 사용자만 볼 수 있습니다.` : "담당 부서를 적어 주세요.";
    return `'${level}' 이상 등급의 사용자가 볼 수 있습니다. '공개' 등급 사용자는 볼 수 없습니다.`;
  }
  const RANK = { 공개: 0, 내부: 1, 부서: 2 };
  const visibleToMe = (level, dept) => RANK[level] <= RANK[myClearance] && (level !== "부서" || dept === myDept);
  const levelText = (lv, dept) => `'${lv}${lv === "부서" && dept ? " · " + dept : ""}'`;

  // ------------------------------------------------------------------ upload
  const dz = AHB.dropzone($("dropzone"), $("files"), (files) => {
    $("chosen").replaceChildren(...files.map((f) => el("li", {}, el("span", { text: f.name }), el("span", { class: "muted", text: fmtSize(f.size) }))));
    $("upload-btn").disabled = !files.length;
  });

  function syncUploadLevel() {
    const lv = $("up-level").value;
    $("up-dept-field").hidden = lv !== "부서";
    $("up-dept").required = lv === "부서";
    $("up-level-hint").textContent = `열람 등급 '${lv}': ${whoCanSee(lv, $("up-dept").value.trim())}`;
  }

  // Every upload starts at the lowest level: the form is reset on load, after each upload and when the
  // browser brings the page back from its cache (it would otherwise restore the last choice).
  function resetUploadForm() {
    $("upload-form").reset();
    $("up-level").value = LEVELS[0];
    dz.clear();
    syncUploadLevel();
  }

  $("up-level").addEventListener("change", syncUploadLevel);
  $("up-dept").addEventListener("input", syncUploadLevel);
  window.addEventListener("pageshow", (e) => { if (e.persisted) resetUploadForm(); });

  $("upload-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const max = Number($("upload-form").dataset.maxBytes);
    const { fits: files, tooBig } = AHB.withinLimit(dz.files(), max);
    if (tooBig.length) { notice($("upload-status"), "error", AHB.tooBigMessage(tooBig, max)); return; }
    if (!files.length) return;
    const fd = new FormData();
    files.forEach((f) => fd.append("files", f, f.name));
    fd.append("access_level", $("up-level").value);
    fd.append("department", $("up-level").value === "부서" ? $("up-dept").value.trim() : "");
    fd.append("index", $("up-index").value);
    $("upload-btn").disabled = true;
    notice($("upload-status"), "info", `${files.length}개 파일을 올리는 중…`);
    try {
      const res = await api("POST", "/api/documents", fd);
      resetUploadForm();
      watch(res.job.id, res.rejected);
    } catch (err) { notice($("upload-status"), "error", err.message); $("upload-btn").disabled = false; }
  });

  function jobView(job, rejected) {
    const pct = Math.round(job.progress * 100);
    const bar = el("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, "aria-label": "등록 진행률" },
      el("span", { style: `width:${pct}%` }));
    const items = el("ul", { class: "job-items" },
      (job.items || []).map((i) => el("li", {}, el("span", { class: "badge st-" + i.status, text: statusLabel[i.status] || i.status }), " ", i.file,
        i.reason ? el("span", { class: "muted", text: " — " + i.reason }) : "", i.chunks ? el("span", { class: "muted", text: ` (구절 ${i.chunks}개)` }) : "",
        i.ocr && i.ocr.total ? el("span", { class: "muted ocr-pages", text: ` · OCR ${i.ocr.done}/${i.ocr.total}쪽` }) : "")),
      (rejected || []).map((r) => el("li", {}, el("span", { class: "badge st-failed", text: "거부" }), " ", r.reason)));
    return el("div", { class: "job" }, el("div", { class: "row" }, el("strong", { text: "문서 등록" }),
      el("span", { class: "badge st-" + job.status, text: statusLabel[job.status] || job.status }), el("span", { class: "grow" }, bar),
      el("span", { class: "small muted", text: job.message })), items);
  }

  async function watch(id, rejected) {
    for (;;) {
      const job = await api("GET", `/api/jobs/${id}`);
      $("upload-status").replaceChildren(jobView(job, rejected));
      if (job.status === "done" || job.status === "failed") break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    $("upload-btn").disabled = !dz.files().length;
    load();
  }

  // ------------------------------------------------------------------ access level, with a confirmation
  // Resolves to the department to send (or "") when confirmed, to null when cancelled.
  function confirmLevel(d, to) {
    const dialog = $("level-dialog"), dept = $("level-dept");
    const isDept = to === "부서";
    $("level-dept-field").hidden = !isDept;
    dept.required = isDept;
    dept.value = d.department || myDept;
    const describe = () => {
      const target = isDept ? dept.value.trim() : "";
      $("level-dialog-text").textContent = `'${d.title}'의 열람 등급을 ${levelText(d.access_level, d.department)}에서 ${levelText(to, target)}로 바꿉니다.`;
      $("level-dialog-who").textContent = "바꾼 뒤에는 " + whoCanSee(to, target) +
        (visibleToMe(to, target) ? "" : " 나도 더는 볼 수 없게 됩니다.");
    };
    dept.oninput = describe;
    describe();
    dialog.returnValue = "";
    dialog.showModal();
    if (isDept) dept.focus();
    return new Promise((resolve) => dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm" ? (isDept ? dept.value.trim() : "") : null);
    }, { once: true }));
  }

  async function changeLevel(d, sel) {
    const to = sel.value;
    const dept = await confirmLevel(d, to);
    if (dept === null) { sel.value = d.access_level; sel.focus(); return; }
    sel.disabled = true;
    try {
      const res = await api("PATCH", `/api/documents/${d.doc_id}`, { access_level: to, department: dept });
      await load();
      const gone = !docs.some((x) => x.doc_id === d.doc_id) ? " 이제 내 열람 범위 밖이라 목록에 보이지 않습니다." : "";
      notice($("doc-status"), "ok", `'${d.title}'의 열람 등급을 ${levelText(d.access_level, d.department)}에서 ${levelText(res.access_level, res.department)}로 바꿨습니다.${gone}`);
    } catch (err) {
      notice($("doc-status"), "error", `'${d.title}'의 열람 등급을 바꾸지 못했습니다: ${err.message}`);
      sel.value = d.access_level; sel.disabled = false;
    }
  }

  // ------------------------------------------------------------------ list
  async function load() {
    const data = await api("GET", "/api/documents");
    docs = data.documents;
    render();
  }

  function render() {
    const q = $("doc-search").value.trim().toLowerCase();
    const shown = docs.filter((d) => !q || d.title.toLowerCase().includes(q));
    $("doc-count").textContent = `(${shown.length}건)`;
    const body = $("doc-table").querySelector("tbody");
    body.replaceChildren(...shown.map(row));
    if (!shown.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "muted", "data-label": "", text: "볼 수 있는 문서가 없습니다." })));
  }

  function row(d) {
    const manage = el("td", { class: "nowrap manage", "data-label": "" });
    if (d.can_manage) {
      const levels = LEVELS.includes(d.access_level) ? LEVELS : [...LEVELS, d.access_level];
      const sel = el("select", { "aria-label": `'${d.title}' 열람 등급`, autocomplete: "off" },
        levels.map((lv) => el("option", { value: lv, selected: lv === d.access_level }, lv)));
      sel.value = d.access_level;
      sel.addEventListener("change", () => changeLevel(d, sel));
      manage.append(sel, " ", el("button", { class: "btn danger small", type: "button", "aria-label": `'${d.title}' 삭제`, onclick: async () => {
        if (!confirm(`'${d.title}'을(를) 삭제할까요? 모든 문서함에서 지워집니다.`)) return;
        try {
          await api("DELETE", `/api/documents/${d.doc_id}`);
          notice($("doc-status"), "ok", `'${d.title}'을(를) 삭제했습니다.`);
          load();
        } catch (err) { notice($("doc-status"), "error", err.message); }
      } }, "삭제"));
    }
    return el("tr", { dataset: { docId: d.doc_id } },
      el("td", { class: "title", "data-label": "" }, el("a", { class: "clamp", href: `/api/documents/${d.doc_id}/file?index=${encodeURIComponent(d.index)}`, title: d.title, text: d.title }),
        (d.ocr_low_pages || []).length ? el("span", { class: "badge st-failed ocr-low", title: "스캔 인식 결과를 원본과 대조해 확인하세요.", text: `OCR 인식 신뢰도 낮음 (${d.ocr_low_pages.join(", ")}쪽)` }) : ""),
      el("td", { "data-label": "형식", text: d.doc_type }), el("td", { class: "num", "data-label": "크기", text: fmtSize(d.size) }),
      el("td", { class: "nowrap", "data-label": "날짜", text: d.date || fmtDate(d.ingested_at).slice(0, 10) }),
      el("td", { "data-label": "열람 등급" }, levelBadge(d.access_level, d.department)),
      el("td", { "data-label": "올린 사람", text: d.owner }), el("td", { class: "nowrap", "data-label": "문서함", text: indexLabel(d.index) }), manage);
  }

  $("doc-search").addEventListener("input", render);
  $("up-level").value = LEVELS[0];  // on load (files chosen before this script ran are kept)
  syncUploadLevel();
  load();
})();
