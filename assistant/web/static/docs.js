// Swagger UI from the swagger-ui-bundle package, served by this app (no CDN).
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.openapiUrl, dom_id: "#swagger-ui", deepLinking: true });
});
