import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { fieldErrors } from "./fieldErrors";

describe("a 422 on the fields it names", () => {
  it("keys each error by its path, without the body and the section kind", () => {
    const error = new ApiError("problem", {
      status: 422,
      problem: {
        status: 422,
        errors: [
          { loc: ["body", "sections", 0, "seated", "rows", 2, "seats"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" },
          { loc: ["body", "name"], msg: "String should have at least 1 character", type: "string_too_short" },
          { loc: ["body", "sections"], msg: "Value error, section ids must be unique: A", type: "value_error" },
        ],
      },
    });
    expect(fieldErrors(error)).toEqual({
      "sections.0.rows.2.seats": "Input should be greater than or equal to 1",
      name: "String should have at least 1 character",
      sections: "section ids must be unique: A",
    });
  });

  it("says pydantic's common checks in the page's language, and keeps a service's own sentence", () => {
    const error = new ApiError("problem", {
      status: 422,
      problem: {
        status: 422,
        errors: [
          { loc: ["body", "sections", 0, "seated", "rows", 2, "seats"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" },
          { loc: ["body", "sections"], msg: "List should have at least 1 item after validation, not 0", type: "too_short" },
          { loc: ["body", "name"], msg: "Field required", type: "missing" },
          { loc: ["body", "timezone"], msg: "Value error, not an IANA time zone: Mars/Olympus", type: "value_error" },
        ],
      },
    });
    const t = (key: string, options: { n: string }) => `${key}(${options.n})`;
    expect(fieldErrors(error, t)).toEqual({
      "sections.0.rows.2.seats": "validation.greater_than_equal(1)",
      sections: "validation.too_short(1)",
      name: "validation.missing()",
      timezone: "not an IANA time zone: Mars/Olympus",
    });
  });

  it("has nothing to say about other errors", () => {
    expect(fieldErrors(new Error("x"))).toEqual({});
    expect(fieldErrors(new ApiError("network"))).toEqual({});
  });
});
