// Account: password change (required after an administrator-issued password) and API tokens.
"use strict";
(function () {
  const { el, api, notice, fmtDate } = AHB;
  const $ = (id) => document.getElementById(id);
  $("password-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const status = $("password-status");
    if ($("pw-new").value !== $("pw-again").value) { notice(status, "error", "새 비밀번호 두 칸이 서로 다릅니다."); return; }
    try {
      const r = await api("POST", "/api/account/password", { current_password: $("pw-current").value, new_password: $("pw-new").value });
      const meta = document.querySelector('meta[name="csrf-token"]');
      if (meta && r.csrf_token) meta.setAttribute("content", r.csrf_token);
      e.target.reset();
      notice(status, "ok", "비밀번호를 바꿨습니다. 다른 곳의 로그인은 모두 끝났습니다.");
      if (new URLSearchParams(location.search).get("change")) setTimeout(() => { location.href = "/"; }, 1200);
    } catch (err) { notice(status, "error", err.message); }
  });
  if (!$("token-form")) return;
  async function load() {
    const data = await api("GET", "/api/tokens");
    const body = $("token-table").querySelector("tbody");
    body.replaceChildren(...data.tokens.map((t) => el("tr", {}, el("td", { text: t.name }), el("td", {}, el("code", { text: t.prefix + "…" })),
      el("td", { text: fmtDate(t.created_at) }), el("td", { text: t.last_used_at ? fmtDate(t.last_used_at) : "사용 안 함" }),
      el("td", {}, el("button", { class: "btn danger small", type: "button", onclick: async () => {
        if (!confirm(`'${t.name}' 토큰을 폐기할까요? 이 토큰을 쓰는 프로그램은 더 이상 접속할 수 없습니다.`)) return;
        await api("DELETE", `/api/tokens/${t.id}`); load();
      } }, "폐기")))));
    if (!data.tokens.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "발급한 토큰이 없습니다." })));
  }
  $("token-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const t = await api("POST", "/api/tokens", { name: $("t-name").value || "API 토큰" });
      $("token-once").replaceChildren(el("p", { class: "notice ok", text: "토큰을 발급했습니다. 지금 복사해 두세요 — 다시 볼 수 없습니다." }), el("div", { class: "token-once", text: t.token }));
      $("t-name").value = ""; load();
    } catch (err) { notice($("token-once"), "error", err.message); }
  });
  load();
})();
