// Documents page: drag & drop upload, ingest progress, list, access level, delete.
"use strict";
(function () {
  const { el, api, notice, fmtSize, fmtDate, levelBadge, statusLabel } = AHB;
  const $ = (id) => document.getElementById(id);
  const LEVELS = ["공개", "내부", "부서"];
  let docs = [];

  const dz = AHB.dropzone($("dropzone"), $("files"), (files) => {
    $("chosen").replaceChildren(...files.map((f) => el("li", {}, el("span", { text: f.name }), el("span", { class: "muted", text: fmtSize(f.size) }))));
    $("upload-btn").disabled = !files.length;
  });

  $("upload-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const files = dz.files();
    if (!files.length) return;
    const fd = new FormData();
    files.forEach((f) => fd.append("files", f, f.name));
    fd.append("access_level", $("up-level").value);
    fd.append("department", $("up-dept").value);
    fd.append("index", $("up-index").value);
    $("upload-btn").disabled = true;
    notice($("upload-status"), "info", `${files.length}개 파일을 올리는 중…`);
    try {
      const res = await api("POST", "/api/documents", fd);
      dz.clear();
      watch(res.job.id, res.rejected);
    } catch (err) { notice($("upload-status"), "error", err.message); $("upload-btn").disabled = false; }
  });

  function jobView(job, rejected) {
    const bar = el("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(job.progress * 100), "aria-label": "색인 진행률" },
      el("span", { style: `width:${Math.round(job.progress * 100)}%` }));
    const items = el("ul", { class: "job-items" },
      (job.items || []).map((i) => el("li", {}, el("span", { class: "badge st-" + i.status, text: statusLabel[i.status] || i.status }), " ", i.file,
        i.reason ? el("span", { class: "muted", text: " — " + i.reason }) : "", i.chunks ? el("span", { class: "muted", text: ` (구절 ${i.chunks}개)` }) : "")),
      (rejected || []).map((r) => el("li", {}, el("span", { class: "badge st-failed", text: "거부" }), " ", r.reason)));
    return el("div", { class: "job" }, el("div", { class: "row" }, el("strong", { text: "색인 작업" }),
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
    if (!shown.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "muted", text: "볼 수 있는 문서가 없습니다." })));
  }

  function row(d) {
    const manage = el("td", { class: "nowrap" });
    if (d.can_manage) {
      const sel = el("select", { "aria-label": `'${d.title}' 열람 등급` }, LEVELS.map((lv) => el("option", { value: lv, selected: lv === d.access_level }, lv)));
      sel.addEventListener("change", async () => {
        let dept = d.department;
        if (sel.value === "부서") { dept = prompt("담당 부서", d.department || $("up-dept").value) || ""; if (!dept) { sel.value = d.access_level; return; } }
        try { await api("PATCH", `/api/documents/${d.doc_id}`, { access_level: sel.value, department: dept }); load(); }
        catch (err) { alert(err.message); sel.value = d.access_level; }
      });
      manage.append(sel, el("button", { class: "btn danger small", type: "button", "aria-label": `'${d.title}' 삭제`, onclick: async () => {
        if (!confirm(`'${d.title}'을(를) 삭제할까요? 모든 색인에서 지워집니다.`)) return;
        try { await api("DELETE", `/api/documents/${d.doc_id}`); load(); } catch (err) { alert(err.message); }
      } }, "삭제"));
    }
    return el("tr", {},
      el("td", {}, el("a", { class: "clamp", href: `/api/documents/${d.doc_id}/file?index=${encodeURIComponent(d.index)}`, title: d.title, text: d.title })),
      el("td", { text: d.doc_type }), el("td", { class: "num", text: fmtSize(d.size) }),
      el("td", { class: "nowrap", text: d.date || fmtDate(d.ingested_at).slice(0, 10) }), el("td", {}, levelBadge(d.access_level, d.department)),
      el("td", { text: d.owner }), el("td", { class: "nowrap", text: d.index }), manage);
  }

  $("doc-search").addEventListener("input", render);
  load();
})();
