// Starts Swagger UI on the API reference page (/api/v1/docs). An external script, not an
// inline one, so the page keeps the strict Content-Security-Policy.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle !== "function") {
    return;
  }
  var csrfToken = root.dataset.csrfToken;
  SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    // Its default checks the document with validator.swagger.io: nothing leaves this server.
    validatorUrl: null,
    // "Try it out" from a signed-in browser uses the session, which the API checks for CSRF.
    requestInterceptor: function (request) {
      if (csrfToken) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
