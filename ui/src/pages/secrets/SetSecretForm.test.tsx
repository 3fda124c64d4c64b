import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import * as sdk from "../../client/sdk.gen";
import { answer, refusal } from "../pipelines/testing";
import { SetSecretForm } from "./SetSecretForm";

vi.mock("../../client/sdk.gen", async (original) => ({
  ...(await original<typeof import("../../client/sdk.gen")>()),
  secretsSetSecret: vi.fn(),
}));
const mocked = vi.mocked(sdk);
const VALUE = "s3cr3t-v4lue-never-shown";

function renderForm(existing: string[] = []) {
  const queries = new QueryClient();
  return render(
    <QueryClientProvider client={queries}>
      <SetSecretForm existing={existing} />
    </QueryClientProvider>,
  );
}

function fill(name: string, value: string) {
  fireEvent.change(screen.getByTestId("secret-name"), { target: { value: name } });
  fireEvent.change(screen.getByTestId("secret-value"), { target: { value } });
  fireEvent.click(screen.getByTestId("secret-save"));
}

describe("SetSecretForm", () => {
  beforeEach(() => vi.clearAllMocks());

  it("sends the value once and never renders it after saving", async () => {
    mocked.secretsSetSecret.mockImplementation(
      () =>
        answer(
          { name: "HF_TOKEN", created_by: "admin", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" },
          201,
        ) as never,
    );
    const { container } = renderForm();
    expect(screen.getByTestId("secret-value")).toHaveAttribute("type", "password");
    fill("HF_TOKEN", VALUE);
    await screen.findByText("Saved HF_TOKEN.");
    expect(mocked.secretsSetSecret.mock.calls[0][0]).toMatchObject({
      path: { project: "default", name: "HF_TOKEN" },
      body: { value: VALUE },
    });
    expect(screen.getByTestId("secret-value")).toHaveValue("");
    expect(container.innerHTML).not.toContain(VALUE);
    expect(document.body.textContent).not.toContain(VALUE);
  });

  it("shows the server's refusal inline and keeps no value in the page after it", async () => {
    mocked.secretsSetSecret.mockImplementation(
      () => refusal(403, "this needs the developer role in project default; yours is viewer") as never,
    );
    const { container } = renderForm(["HF_TOKEN"]);
    fill("HF_TOKEN", VALUE);
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("developer role"));
    expect(screen.getByTestId("secret-save")).toHaveTextContent("Replace");
    expect(container.textContent).not.toContain(VALUE);
  });

  it("refuses a name that is not an identifier before sending", () => {
    renderForm();
    fill("bad-name", VALUE);
    expect(screen.getByText(/a letter or _/)).toBeInTheDocument();
    expect(mocked.secretsSetSecret).not.toHaveBeenCalled();
  });
});
