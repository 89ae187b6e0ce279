// Starts Swagger UI on this server's OpenAPI document. A token pasted under "Authorize" is kept in this
// browser's local storage (persistAuthorization) and sent with every call made from the page.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    filter: true,
    // The public validator would be a call to a third-party host.
    validatorUrl: null,
  });
});
