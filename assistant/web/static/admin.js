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
      return el("tr", {}, el("td", { text: u.username }), el("td", { text: u.display_name }), el("td", {}, level), el("td", {}, dept),
        el("td", {}, el("label", {}, admin, " 관리자")), el("td", {}, el("label", {}, active, " 사용")), el("td", {}, save));
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

  async function audit() {
    const action = $("a-action").value;
    const data = await api("GET", "/api/admin/audit" + (action ? "?action=" + encodeURIComponent(action) : ""));
    $("audit-table").querySelector("tbody").replaceChildren(...data.entries.map((a) => el("tr", {},
      el("td", { class: "nowrap", text: fmtDate(a.at) }), el("td", { class: "nowrap", text: a.username }),
      el("td", {}, el("code", { text: a.action })),
      el("td", { text: [a.query, a.detail].filter(Boolean).join(" · ") }), el("td", { class: "small", text: a.doc_ids.join(", ") }))));
  }
  $("a-action").addEventListener("change", audit);

  async function feedback() {
    const data = await api("GET", "/api/admin/feedback");
    $("fb-stats").replaceChildren(AHB.icon("up"), ` 도움됨 ${data.up}건 · `, AHB.icon("down"), ` 아쉬움 ${data.down}건`);
    $("fb-table").querySelector("tbody").replaceChildren(...data.items.map((f) => el("tr", {},
      el("td", { class: "nowrap", text: fmtDate(f.at) }), el("td", { class: "nowrap", text: f.username }), el("td", {}, AHB.icon(f.rating > 0 ? "up" : "down"), f.rating > 0 ? " 도움됨" : " 아쉬움"),
      el("td", { text: f.question }), el("td", { text: f.comment }), el("td", { class: "small", text: f.answer }))));
  }
  users();
})();
