// 보고서 초안 mode of the chat page: the kind of document (보고서 / 보도자료) and a 보도자료's 기관, 보도 일시
// and 담당자 above the composer (sent with the request), and the downloads of the draft as HWPX, DOCX or
// Markdown (the server masks personal data again and applies the official notation; the [n] markers stay,
// they point into the 붙임 출처 목록).
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

  // ------------------------------------------------------------------ 보고서 / 보도자료 settings above the composer
  const $ = (id) => document.getElementById(id);

  function chosenKind() {
    const r = document.querySelector('input[name="report-kind"]:checked');
    return r ? r.value : "보고서";
  }

  // "2026-12-05T14:30" (a datetime-local value) → "2026. 12. 5. 14:30", the official notation
  function officialDateTime(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(value || "");
    if (!m) return "";
    const date = `${m[1]}. ${Number(m[2])}. ${Number(m[3])}.`;
    return m[4] ? `${date} ${m[4]}:${m[5]}` : date;
  }

  function sync() {
    const box = $("report-options");
    if (!box) return;
    const mode = document.querySelector('input[name="mode"]:checked');
    box.hidden = !mode || mode.value !== "report";
    $("press-fields").hidden = chosenKind() !== "보도자료";
    const shown = officialDateTime($("press-released").value);
    $("press-released-text").textContent = shown ? `→ ${shown}` : "";
  }

  // What the chat request carries in 보고서 mode: the kind chosen and, for a 보도자료, the fields typed
  // (empty ones stay fill-ins such as 【기관명】 in the draft).
  function requestFields() {
    if (!$("report-options")) return {};
    const kind = chosenKind();
    if (kind !== "보도자료") return { kind };
    return { kind, agency: $("press-agency").value.trim(), released: $("press-released").value || null,
             contact: $("press-contact").value.trim() };
  }

  function wire() {
    if (!$("report-options")) return;
    document.querySelectorAll('input[name="mode"], input[name="report-kind"]').forEach((r) => r.addEventListener("change", sync));
    $("press-released").addEventListener("input", sync);
    sync();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire); else wire();

  return { exportButtons, requestFields, officialDateTime, sync };
})();
