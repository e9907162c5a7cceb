import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { fakeGateway } from "../test/fakeFetch";
import { jsonResponse, renderWithApp } from "../test/render";
import { Component as EventEditor } from "./EventEditor";

const EVENT = {
  event_id: "e1", organizer_id: "o", venue_id: "v", title: "Big Show", description: "", category: "concert",
  starts_at: "2030-07-01T10:00:00Z", ends_at: null, status: "on_sale", city: "Seoul", created_at: "",
  price_tiers: [{ tier: "standard", price_cents: 4500, currency: "EUR" }], section_tiers: { A: "standard" },
};
const VENUE = {
  venue_id: "v", organizer_id: "o", name: "Hall", city: "Seoul", country: "KR", address: "1 Road", timezone: "Asia/Seoul",
  sections: [], capacity: 2, created_at: "", in_use: true,
};
const DEFAULTS = {
  event_id: "e1", enabled: false, opens_at: null, admission_per_minute: 600, max_shoppers: 2000, shopping_minutes: 10,
};

function open(put: Parameters<typeof fakeGateway>[0][string], language: "en" | "ko" = "en") {
  const calls = fakeGateway(
    {
      "GET /api/v1/events/e1": jsonResponse(200, EVENT),
      "GET /api/v1/venues/v": jsonResponse(200, VENUE),
      "GET /api/v1/events/e1/waiting-room": jsonResponse(200, DEFAULTS),
      "PUT /api/v1/events/e1/waiting-room": put,
    },
    { role: "organizer" },
  );
  renderWithApp(
    <Routes>
      <Route path="/console/events/:eventId/edit" element={<EventEditor />} />
    </Routes>,
    { path: "/console/events/e1/edit", language },
  );
  return calls;
}

const puts = (calls: ReturnType<typeof fakeGateway>) => calls.filter((c) => c.method === "PUT");

describe("the event editor's waiting room", () => {
  it("turns the room on for an event on sale, in the venue's local time, and says it is saved", async () => {
    const calls = open((call) => jsonResponse(200, { event_id: "e1", ...(call.body as object) }));
    expect(await screen.findByRole("region", { name: "Waiting room" })).toBeInTheDocument();
    const enabled = await screen.findByRole("checkbox", { name: "Use a waiting room" });
    expect(enabled).not.toBeChecked();
    expect(screen.getByLabelText("People admitted per minute")).toHaveValue("600");
    expect(screen.getByLabelText("Most people shopping at once")).toHaveValue("2000");
    expect(screen.getByLabelText("Minutes to shop")).toHaveValue("10");
    expect(screen.getByLabelText("Opens at")).toHaveAccessibleDescription("The venue's local time (Asia/Seoul).");

    await userEvent.click(enabled);
    await userEvent.type(screen.getByLabelText("Opens at"), "2030-06-01T19:00");
    await userEvent.clear(screen.getByLabelText("People admitted per minute"));
    await userEvent.type(screen.getByLabelText("People admitted per minute"), "120");
    await userEvent.click(screen.getByRole("button", { name: "Save waiting room" }));

    expect(await screen.findByRole("status")).toHaveTextContent("Saved. The waiting room opens at");
    expect(puts(calls)).toHaveLength(1);
    expect(calls.find((c) => c.method === "GET" && c.path.endsWith("/waiting-room"))!.headers.get("Authorization")).toBe("Bearer a");
    expect(puts(calls)[0]!.headers.get("Authorization")).toBe("Bearer a");
    expect(puts(calls)[0]!.body).toEqual({
      enabled: true,
      opens_at: "2030-06-01T10:00:00.000Z", // 19:00 in Seoul
      admission_per_minute: 120,
      max_shoppers: 2000,
      shopping_minutes: 10,
    });
  });

  it("names what is wrong on the fields before sending anything", async () => {
    const calls = open(jsonResponse(200, DEFAULTS));
    await userEvent.click(await screen.findByRole("checkbox", { name: "Use a waiting room" }));
    await userEvent.clear(screen.getByLabelText("People admitted per minute"));
    await userEvent.type(screen.getByLabelText("People admitted per minute"), "0");
    await userEvent.clear(screen.getByLabelText("Minutes to shop"));
    await userEvent.type(screen.getByLabelText("Minutes to shop"), "ten");
    await userEvent.click(screen.getByRole("button", { name: "Save waiting room" }));

    expect(screen.getByLabelText("Opens at")).toHaveAccessibleDescription(/Choose when the waiting room opens\./);
    expect(screen.getByLabelText("Opens at")).toBeInvalid();
    expect(screen.getByLabelText("People admitted per minute")).toHaveAccessibleDescription("Enter a whole number from 1 to 100,000.");
    expect(screen.getByLabelText("Minutes to shop")).toHaveAccessibleDescription(/Enter a whole number from 1 to 120\./);
    expect(screen.getByLabelText("Most people shopping at once")).toBeValid();
    expect(puts(calls)).toEqual([]);
  });

  it("shows the API's validation errors on their fields", async () => {
    open(
      jsonResponse(422, {
        type: "https://ticketing-pro.com/problems/validation",
        title: "Unprocessable Content",
        status: 422,
        errors: [
          { loc: ["body", "max_shoppers"], msg: "Input should be less than or equal to 1000000", type: "less_than_equal" },
          { loc: ["body", "opens_at"], msg: "Value error, the waiting room must open before the event starts", type: "value_error" },
        ],
      }),
    );
    await userEvent.click(await screen.findByRole("checkbox", { name: "Use a waiting room" }));
    await userEvent.type(screen.getByLabelText("Opens at"), "2030-08-01T19:00");
    await userEvent.click(screen.getByRole("button", { name: "Save waiting room" }));

    expect(await screen.findByText("the waiting room must open before the event starts")).toBeInTheDocument();
    expect(screen.getByLabelText("Opens at")).toHaveAccessibleDescription(/the waiting room must open before the event starts/);
    expect(screen.getByLabelText("Most people shopping at once")).toHaveAccessibleDescription("Enter a whole number from 1 to 1,000,000.");
    expect(screen.getByRole("alert")).toHaveTextContent("Some details are not right. Please check the highlighted fields.");
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("in Korean", async () => {
    open(jsonResponse(200, DEFAULTS), "ko");
    expect(await screen.findByRole("checkbox", { name: "대기실 사용" })).toBeInTheDocument();
    expect(screen.getByLabelText("분당 입장 인원")).toHaveValue("600");
    await userEvent.clear(screen.getByLabelText("분당 입장 인원"));
    await userEvent.click(screen.getByRole("button", { name: "대기실 저장" }));
    expect(screen.getByLabelText("분당 입장 인원")).toHaveAccessibleDescription("1에서 100,000 사이의 정수를 입력해 주세요.");
  });
});
