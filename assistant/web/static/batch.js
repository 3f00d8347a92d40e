// Batch summaries: submit files or a zip, follow progress, download the result zip.
"use strict";
(function () {
  const { el, api, notice, fmtSize, fmtDate, statusLabel } = AHB;
  const $ = (id) => document.getElementById(id);
  const dz = AHB.dropzone($("dropzone"), $("files"), (files) => {
    $("chosen").replaceChildren(...files.map((f) => el("li", {}, el("span", { text: f.name }), el("span", { class: "muted", text: fmtSize(f.size) }))));
    $("batch-btn").disabled = !files.length;
  });
  let timer = null;

  $("batch-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const fmts = Array.from(document.querySelectorAll('input[name="fmt"]:checked')).map((i) => i.value);
    if (!fmts.length) { notice($("batch-status"), "error", "출력 형식을 하나 이상 고르세요."); return; }
    const max = Number($("batch-form").dataset.maxBytes);
    // a zip may hold several files: its own limit is four files' worth (the server's rule)
    const big = dz.files().filter((f) => f.size > (f.name.toLowerCase().endsWith(".zip") ? 4 * max : max));
    // (the message names the per-file limit; a zip over four times it is named too)
    if (big.length) { notice($("batch-status"), "error", AHB.tooBigMessage(big, max)); return; }
    const fd = new FormData();
    dz.files().forEach((f) => fd.append("files", f, f.name));
    fd.append("formats", fmts.join(","));
    fd.append("length", $("b-length").value);
    $("batch-btn").disabled = true;
    try {
      const res = await api("POST", "/api/batch", fd);
      const rej = res.rejected.length ? ` (제외 ${res.rejected.length}개: ${res.rejected.map((r) => r.reason).join(" / ")})` : "";
      notice($("batch-status"), "ok", `작업을 시작했습니다: 파일 ${res.accepted.length}개${rej}`);
      dz.clear();
      load();
    } catch (err) { notice($("batch-status"), "error", err.message); $("batch-btn").disabled = false; }
  });

  function jobCard(j) {
    const pct = Math.round(j.progress * 100);
    return el("div", { class: "job", dataset: { jobId: j.id, status: j.status } },
      el("div", { class: "row" },
        el("strong", { text: `요약 작업 ${fmtDate(j.created_at)}` }),
        el("span", { class: "badge st-" + j.status, text: statusLabel[j.status] || j.status }),
        el("span", { class: "grow" }, el("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, "aria-label": "진행률" }, el("span", { style: `width:${pct}%` }))),
        el("span", { class: "small muted", text: `${j.done}/${j.total} · ${j.message}` }),
        j.download ? el("a", { class: "btn small", href: j.download, download: "" }, "결과 ZIP 내려받기") : ""),
      el("ul", { class: "job-items" }, (j.items || []).map((i) => el("li", {},
        el("span", { class: "badge st-" + i.status, text: statusLabel[i.status] || i.status }), " ", i.title || i.file,
        i.lines ? el("span", { class: "muted", text: ` (${i.lines}줄)` }) : "", i.reason ? el("span", { class: "muted", text: " — " + i.reason }) : ""))));
  }

  async function load() {
    const data = await api("GET", "/api/jobs?kind=summarize");
    const box = $("jobs");
    box.replaceChildren(...(data.jobs.length ? data.jobs.map(jobCard) : [el("p", { class: "muted", text: "아직 작업이 없습니다." })]));
    const active = data.jobs.some((j) => j.status === "queued" || j.status === "running");
    clearTimeout(timer);
    if (active) timer = setTimeout(load, 1000);
  }
  load();
})();
