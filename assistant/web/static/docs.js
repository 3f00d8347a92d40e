// Swagger UI from the swagger-ui-bundle package, served by this app (no CDN). A few rules keep its wide
// parts (long schema names, paths, code samples) inside a phone-wide window, and a link leads back to the app.
"use strict";
window.addEventListener("load", function () {
  var style = document.createElement("style");
  style.textContent = [
    ".ahb-back { display: block; max-width: 1460px; margin: 0 auto; padding: 12px 20px 0; font: 700 14px sans-serif; color: #1f5fbf; }",
    ".swagger-ui .wrapper { padding: 0 12px; }",
    ".swagger-ui section.models, .swagger-ui .model-container, .swagger-ui .model-box { max-width: 100%; }",
    ".swagger-ui .model-box, .swagger-ui .highlight-code, .swagger-ui .responses-inner, .swagger-ui .table-container { overflow-x: auto; }",
    ".swagger-ui .model-title, .swagger-ui .opblock-summary-path, .swagger-ui .opblock-summary-description { overflow-wrap: anywhere; word-break: break-word; }",
  ].join("\n");
  document.head.appendChild(style);
  var root = document.getElementById("swagger-ui");
  var back = document.createElement("a");
  back.className = "ahb-back"; back.href = "/"; back.textContent = "← AI 행정비서로 돌아가기";
  root.parentNode.insertBefore(back, root);
  window.ui = SwaggerUIBundle({ url: root.dataset.openapiUrl, dom_id: "#swagger-ui", deepLinking: true });
});
