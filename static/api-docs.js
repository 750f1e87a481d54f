// The API reference page: Swagger UI over the OpenAPI document Moat serves. Nothing leaves the
// site: no validator badge, no remote fonts.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
  });
});
