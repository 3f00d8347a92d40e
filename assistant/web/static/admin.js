// Admin: users and roles, audit log, feedback.
"use strict";
(function () {
  const { el, api, notice, fmtDate, levelBadge } = AHB;
  const $ = (id) => document.getElementById(id);
  const LEVELS = ["공개", "내부", "부서"];
  const me = document.querySelector(".who-name");

  document.querySelectorAll('[role="tab"]').forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll('[role="tab"]').forEach((t) => { t.setAttribute("aria-selected", t === tab ? "true" : "false"); $(t.getAttribute("aria-controls")).hidden = t !== tab; });
    ({ "t-users": users, "t-audit": audit, "t-feedback": feedback })[tab.id]();
  }));

  async function users() {
    const data = await api("GET", "/api/admin/users");
    $("user-table").querySelector("tbody").replaceChildren(...data.users.map((u) => {
      const level = el("select", { "aria-label": `${u.username} 열람 등급` }, LEVELS.map((lv) => el("option", { selected: lv === u.clearance }, lv)));
      const dept = el("input", { type: "text", value: u.department, "aria-label": `${u.username} 부서`, size: 10 });
      const admin = el("input", { type: "checkbox", checked: u.is_admin, "aria-label": `${u.username} 관리자` });
      const active = el("input", { type: "checkbox", checked: u.active, "aria-label": `${u.username} 사용 가능` });
      const save = el("button", { class: "btn secondary small", type: "button", onclick: async () => {
        try { await api("PATCH", `/api/admin/users/${u.id}`, { clearance: level.value, department: dept.value, is_admin: admin.checked, active: active.checked }); notice($("user-status"), "ok", `${u.username} 저장됨`); users(); }
        catch (err) { notice($("user-status"), "error", err.message); }
      } }, "저장");
      const reset = el("button", { class: "btn secondary small", type: "button", onclick: async () => {
        const pw = prompt(`${u.username}의 임시 비밀번호 (다음 로그인 때 바꾸게 됩니다. 로그인 대기도 풀립니다):`);
        if (!pw) return;
        try { await api("PATCH", `/api/admin/users/${u.id}`, { password: pw }); notice($("user-status"), "ok", `${u.username}의 임시 비밀번호를 정했습니다. 기존 로그인은 끝났습니다.`); users(); }
        catch (err) { notice($("user-status"), "error", err.message); }
      } }, "임시 비밀번호");
      const unlock = el("button", { class: "btn secondary small", type: "button", onclick: async () => {
        try { await api("PATCH", `/api/admin/users/${u.id}`, { unlock: true }); notice($("user-status"), "ok", `${u.username}의 로그인 대기를 풀었습니다.`); }
        catch (err) { notice($("user-status"), "error", err.message); }
      } }, "로그인 대기 해제");
      const state = [u.active ? "" : "정지", u.must_change_password ? "비밀번호 변경 대기" : ""].filter(Boolean).join(" · ");
      return el("tr", {}, el("td", { text: u.username }), el("td", { text: u.display_name }), el("td", {}, level), el("td", {}, dept),
        el("td", {}, el("label", {}, admin, " 관리자")), el("td", {}, el("label", {}, active, " 사용"), state ? el("div", { class: "small muted", text: state }) : ""),
        el("td", { class: "actions" }, save, " ", reset, " ", unlock));
    }));
  }

  $("user-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("POST", "/api/admin/users", { username: $("u-name").value, display_name: $("u-display").value, password: $("u-pass").value,
        clearance: $("u-level").value, department: $("u-dept").value, is_admin: $("u-admin").checked });
      notice($("user-status"), "ok", `${$("u-name").value} 사용자를 추가했습니다.`);
      e.target.reset(); users();
    } catch (err) { notice($("user-status"), "error", err.message); }
  });

  let actionsLoaded = false;
  function auditParams() {
    const p = new URLSearchParams();
    [["username", "a-user"], ["action", "a-action"], ["result", "a-result"], ["since", "a-since"], ["until", "a-until"], ["q", "a-q"]]
      .forEach(([key, id]) => { const v = $(id).value.trim(); if (v) p.set(key, v); });
    return p.toString();
  }
  async function audit() {
    const query = auditParams();
    $("a-export").href = "/api/admin/audit.csv" + (query ? "?" + query : "");
    const data = await api("GET", "/api/admin/audit" + (query ? "?" + query : ""));
    if (!actionsLoaded) {
      $("a-action").append(...Object.entries(data.actions).map(([value, label]) => el("option", { value }, label)));
      actionsLoaded = true;
    }
    const rows = data.entries.map((a) => el("tr", { class: a.result === "ok" ? "" : "denied" },
      el("td", { class: "nowrap", text: fmtDate(a.at) }), el("td", { class: "nowrap", text: a.username }),
      el("td", { class: "nowrap", text: a.action_label }), el("td", { class: "nowrap" }, el("span", { class: "badge " + (a.result === "ok" ? "st-ok" : "st-failed"), text: a.result_label })),
      el("td", { class: a.withheld ? "small muted" : "small", text: a.target }),
      el("td", { text: [a.query, a.detail].filter(Boolean).join(" · ") })));
    $("audit-table").querySelector("tbody").replaceChildren(...rows);
    if (!rows.length) $("audit-table").querySelector("tbody").append(el("tr", {}, el("td", { colspan: 6, class: "muted", text: "조건에 맞는 기록이 없습니다." })));
  }
  $("audit-filter").addEventListener("submit", (e) => { e.preventDefault(); audit(); });

  async function feedback() {
    const data = await api("GET", "/api/admin/feedback");
    $("fb-stats").replaceChildren(AHB.icon("up"), ` 도움됨 ${data.up}건 · `, AHB.icon("down"), ` 아쉬움 ${data.down}건`);
    $("fb-table").querySelector("tbody").replaceChildren(...data.items.map((f) => el("tr", {},
      el("td", { class: "nowrap", text: fmtDate(f.at) }), el("td", { class: "nowrap", text: f.username }), el("td", {}, AHB.icon(f.rating > 0 ? "up" : "down"), f.rating > 0 ? " 도움됨" : " 아쉬움"),
      el("td", { class: f.withheld ? "muted" : "", text: f.question }), el("td", { class: f.withheld ? "muted" : "", text: f.comment }),
      el("td", { class: f.withheld ? "small muted" : "small", text: f.answer }))));
  }
  users();
})();
