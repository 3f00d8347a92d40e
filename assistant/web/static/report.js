// 보고서 초안 mode of the chat page: download the draft as HWPX, DOCX or Markdown (the server masks personal
// data again and applies the official notation; the [n] markers stay, they point into the 붙임 출처 목록).
"use strict";
window.AHB_REPORT = (function () {
  const FORMATS = ["hwpx", "docx", "md"];
  const LABEL = { hwpx: "HWPX 내려받기", docx: "DOCX 내려받기", md: "Markdown 내려받기" };

  function kindOf(view) {
    if (view.kind) return view.kind;
    return /보도자료|기관:\s/.test(view.text || "") ? "보도자료" : "보고서";
  }

  function titleOf(view) {
    return (view.reportTitle || view.question || "보고서").slice(0, 200);
  }

  async function download(view, fmt, api, el) {
    const resp = await api("POST", "/api/exports/draft-report", { text: view.text, title: titleOf(view), kind: kindOf(view), format: fmt });
    const m = /filename\*=UTF-8''([^;]+)/.exec(resp.headers.get("content-disposition") || "");
    const a = el("a", { href: URL.createObjectURL(await resp.blob()), download: m ? decodeURIComponent(m[1]) : `report.${fmt}` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  function exportButtons(view, api, el) {
    return FORMATS.map((fmt) => {
      const btn = el("button", { class: "btn ghost small", type: "button", "data-export": fmt, onclick: async () => {
        try { await download(view, fmt, api, el); }
        catch (err) { btn.textContent = "내려받기 실패"; btn.title = err.message; setTimeout(() => { btn.textContent = LABEL[fmt]; }, 2500); }
      } }, LABEL[fmt]);
      return btn;
    });
  }

  return { exportButtons };
})();
