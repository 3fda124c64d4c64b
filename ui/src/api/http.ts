// The generated client (src/client, from the server's OpenAPI document) set up for this app:
// same-origin base URL, the session's bearer token on every request, and a 401 that ends the
// session (the login page then shows). `unwrap` turns the client's result into data or a
// thrown ApiError carrying the server's one error format.
import { client } from "../client/client.gen";
import { currentToken, useSession } from "../auth/session";

export interface ApiErrorBody {
  error?: { code?: string; message?: string; field?: string | null; details?: FieldProblem[] };
}
export interface FieldProblem {
  field?: string | null;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null = null,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
  }
}

client.setConfig({ baseUrl: "" });
client.interceptors.request.use((request) => {
  const token = currentToken();
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  return request;
});
client.interceptors.response.use((response) => {
  if (response.status === 401 && currentToken()) useSession.getState().logout();
  return response;
});

export function toApiError(status: number, body: unknown): ApiError {
  const error = (body as ApiErrorBody | undefined)?.error;
  const message = error?.message ?? `the server answered ${status}`;
  return new ApiError(status, message, error?.field ?? null, error?.details ?? []);
}

interface ClientResult<T> {
  data?: T;
  error?: unknown;
  response?: Response;
}

/** The data of a generated call, or its error thrown as an ApiError. */
export async function unwrap<T>(call: Promise<ClientResult<T>>): Promise<T> {
  const result = await call;
  const status = result.response?.status ?? 0;
  if (result.error !== undefined || !result.response?.ok) {
    throw toApiError(status, result.error);
  }
  return result.data as T;
}

/** A raw authenticated fetch for what the generated client does not stream (logs, SSE). */
export function authFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return fetch(url, { ...init, headers });
}

export { client };
