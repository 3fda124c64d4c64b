// The TypeScript client of the API, generated from the server's OpenAPI document:
//   npm run generate-client   (needs the Python package installed: ../.venv)
// tests/unit/web/test_client_generated.py regenerates it into a scratch folder and fails on
// any difference, so the committed client always matches the API.
import { defineConfig } from "@hey-api/openapi-ts";

export default defineConfig({
  input: process.env.CUBE_OPENAPI_INPUT ?? "openapi.json",
  output: process.env.CUBE_OPENAPI_OUTPUT ?? "src/client",
  plugins: ["@hey-api/typescript", "@hey-api/sdk", "@hey-api/client-fetch"],
});
