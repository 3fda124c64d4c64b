import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { linePath, Sparkline } from "./Sparkline";

describe("Sparkline", () => {
  it("draws a line through the points, scaled to time and to max", () => {
    const points = [
      { t: 1000, v: 0 },
      { t: 2000, v: 50 },
      { t: 5000, v: 100 },
    ];
    expect(linePath(points, 100, 200, 50)).toBe("M0,50 L50,25 L200,0");
    render(<Sparkline points={points} max={100} width={200} height={50} label="CPU over time" />);
    const chart = screen.getByRole("img", { name: "CPU over time" });
    expect(chart.querySelector("[data-testid=sparkline-line]")).toHaveAttribute(
      "d",
      "M0,50 L50,25 L200,0",
    );
    expect(chart.querySelector("[data-testid=sparkline-area]")?.getAttribute("d")).toBe(
      "M0,50 L50,25 L200,0 L200,50 L0,50 Z",
    );
  });

  it("clips values above max and spreads points taken at the same instant", () => {
    expect(linePath([{ t: 0, v: 300 }, { t: 0, v: 0 }], 100, 100, 10)).toBe("M0,0 L100,10");
  });

  it("draws one point as a flat line and no point as an empty frame", () => {
    expect(linePath([{ t: 7, v: 25 }], 100, 200, 40)).toBe("M0,30 L200,30");
    const { container } = render(<Sparkline points={[]} label="nothing" />);
    expect(screen.getByRole("img", { name: "nothing" })).toBeInTheDocument();
    expect(container.querySelector("path")).toBeNull();
    expect(linePath([], 100, 200, 40)).toBe("");
  });

  it("scales to the largest value when no max is given", () => {
    render(
      <Sparkline
        points={[
          { t: 0, v: 10 },
          { t: 10, v: 20 },
        ]}
        width={10}
        height={10}
        label="auto"
      />,
    );
    expect(screen.getByTestId("sparkline-line")).toHaveAttribute("d", "M0,5 L10,0");
  });
});
