import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import type { FieldErrors, PipelineJson } from "../editor/types";
import { PipelineSettingsPanel } from "./PipelineSettingsPanel";
import { Controlled } from "./testing";

const base: PipelineJson = { name: "nightly", tasks: [{ name: "a", command: "echo a" }] };

function setup(initial: PipelineJson = base, errors: FieldErrors = {}, preview?: string[]) {
  const seen: PipelineJson[] = [];
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queries}>
      <Controlled<PipelineJson>
        initial={initial}
        seen={seen}
        render={(value, onChange) => (
          <PipelineSettingsPanel pipeline={value} errors={errors} onChange={onChange} schedulePreview={preview} />
        )}
      />
    </QueryClientProvider>,
  );
  return { seen, last: () => seen[seen.length - 1], user: userEvent.setup() };
}

test("turning the schedule on gives a cron described in words", async () => {
  const { user, last } = setup();
  await user.click(screen.getByLabelText("run on a schedule"));
  expect(last().schedule).toEqual({ cron: "0 0 * * *", timezone: "UTC" });
  const cron = screen.getByLabelText("cron");
  await user.clear(cron);
  await user.type(cron, "30 2 * * 1-5");
  expect(last().schedule?.cron).toBe("30 2 * * 1-5");
  expect(screen.getByTestId("schedule-cron-text")).toHaveTextContent("At 02:30, Monday through Friday (UTC)");
});

test("a bad cron shows why inline, and the message goes when it is fixed", async () => {
  const { user } = setup({ ...base, schedule: { cron: "0 0 * * *" } });
  const cron = screen.getByLabelText("cron");
  await user.clear(cron);
  await user.type(cron, "61 * * * *");
  expect(screen.getByText(/is not a cron \(minutes part must be >= 0 and <= 59\)/)).toBeInTheDocument();
  expect(cron).toHaveAttribute("aria-invalid", "true");
  expect(screen.queryByTestId("schedule-cron-text")).toBeNull();
  await user.clear(cron);
  await user.type(cron, "@daily");
  expect(screen.queryByText(/is not a cron/)).toBeNull();
  await user.clear(cron);
  await user.type(cron, "0 0 * *");
  expect(screen.getByText(/use 5 fields/)).toBeInTheDocument();
});

test("schedule fields use the server's names and types, and show the next runs", async () => {
  const preview = ["2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z"];
  const { user, last } = setup({ ...base, schedule: { cron: "0 8 * * *", timezone: "Asia/Shanghai" } }, { "schedule.start": "bad start" }, preview);
  expect(screen.getByText("bad start")).toBeInTheDocument();
  await user.type(screen.getByLabelText("max_active_runs"), "3");
  await user.type(screen.getByLabelText("expired_limit"), "2");
  await user.click(screen.getByLabelText("catchup"));
  await user.click(screen.getByLabelText("depends_on_past"));
  await user.type(screen.getByLabelText("start"), "2026-01-01 00:00:00");
  expect(last().schedule).toEqual({
    cron: "0 8 * * *",
    timezone: "Asia/Shanghai",
    max_active_runs: 3,
    expired_limit: 2,
    catchup: true,
    depends_on_past: true,
    start: "2026-01-01 00:00:00",
  });
  const runs = within(screen.getByTestId("schedule-next-runs")).getAllByRole("listitem");
  expect(runs).toHaveLength(5);
  expect(runs[0]).toHaveTextContent("2026-12-01 08:00:00 Asia/Shanghai");
  const zone = screen.getByLabelText("timezone");
  await user.clear(zone);
  await user.type(zone, "Mars/Base");
  expect(screen.getByText(/unknown time zone "Mars\/Base"/)).toBeInTheDocument();
});

test("params rows keep each value's type", async () => {
  const { user, last } = setup({ ...base, params: { lr: 0.01 } }, { "params.lr": "lr is not used" });
  expect(screen.getByLabelText("param type 1")).toHaveValue("float");
  expect(screen.getByText("lr is not used")).toBeInTheDocument();
  await user.click(screen.getByRole("button", { name: "+ add param" }));
  await user.type(screen.getByLabelText("param name 2"), "epochs");
  await user.selectOptions(screen.getByLabelText("param type 2"), "int");
  await user.type(screen.getByLabelText("param value 2"), "5");
  expect(last().params).toEqual({ lr: 0.01, epochs: 5 });
  const lr = screen.getByLabelText("param value 1");
  await user.clear(lr);
  await user.type(lr, "1");
  expect(last().params).toEqual({ lr: { type: "float", default: 1 }, epochs: 5 });
  await user.click(screen.getByRole("button", { name: "remove param 2" }));
  expect(last().params).toEqual({ lr: { type: "float", default: 1 } });
  await user.click(screen.getByRole("button", { name: "remove param 1" }));
  expect(last()).not.toHaveProperty("params");
});

test("env rows: a value, or a project secret", async () => {
  const { user, last } = setup();
  await user.click(screen.getByRole("button", { name: "Environment" }));
  await user.click(screen.getByRole("button", { name: "+ add variable" }));
  await user.type(screen.getByLabelText("env name 1"), "TOKEN");
  await user.selectOptions(screen.getByLabelText("env source 1"), "from_secret");
  await user.type(screen.getByLabelText("env value 1"), "hub_token");
  expect(last().env).toEqual({ TOKEN: { secret: true, from_secret: "hub_token" } });
  await user.type(screen.getByLabelText("env name 1"), "-x");
  expect(screen.getByText(/"TOKEN-x" is not a valid variable name/)).toBeInTheDocument();
});

test("alerts: a webhook with its events; a bad URL is shown inline", async () => {
  const { user, last } = setup();
  await user.click(screen.getByRole("button", { name: "Alerts" }));
  await user.click(screen.getByRole("button", { name: "+ add webhook" }));
  await user.type(screen.getByLabelText("url"), "ftp://x");
  expect(screen.getByText(/http:\/\/ or https:\/\/ only/)).toBeInTheDocument();
  await user.clear(screen.getByLabelText("url"));
  await user.type(screen.getByLabelText("url"), "https://hooks.example/cube");
  await user.click(screen.getByLabelText("success"));
  await user.selectOptions(screen.getByLabelText("scope"), "both");
  await user.type(screen.getByLabelText("tasks"), "a, b");
  expect(last().alerts).toEqual([
    { url: "https://hooks.example/cube", on: ["failure", "success", "timeout"], scope: "both", tasks: ["a", "b"] },
  ]);
});

test("parallelism and timeout; an error no field shows is listed on top", async () => {
  const { user, last } = setup(base, { secrets: "a secret has either a value or from_env" });
  expect(screen.getByTestId("panel-errors")).toHaveTextContent("a secret has either a value or from_env");
  await user.type(screen.getByLabelText("parallelism"), "0");
  expect(screen.getByText("must be at least 1")).toBeInTheDocument();
  await user.clear(screen.getByLabelText("parallelism"));
  await user.type(screen.getByLabelText("parallelism"), "4");
  await user.type(screen.getByLabelText("timeout"), "2h");
  expect(last()).toMatchObject({ parallelism: 4, timeout: "2h" });
});
