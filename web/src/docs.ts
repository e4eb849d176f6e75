import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import { API_URL } from "./api";

// The API reference, rendered from the OpenAPI document the API itself serves (built from the route manifest).
// No validator badge: by default Swagger UI sends the document's URL to validator.swagger.io and shows
// its image, which the dashboard's Content-Security-Policy (img-src 'self' data:) would block anyway.
SwaggerUI({ url: `${API_URL}/api/v1/openapi.json`, dom_id: "#swagger", deepLinking: true, validatorUrl: null });
