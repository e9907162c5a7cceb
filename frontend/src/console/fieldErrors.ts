/** A 422's errors keyed by where they point, as the form names its fields: `name`,
 * `sections.0.rows.2.seats` (pydantic's union tags such as "seated" dropped). */
import { ApiError } from "../api/client";

export function fieldErrors(error: unknown): Record<string, string> {
  const found: Record<string, string> = {};
  if (!(error instanceof ApiError)) return found;
  for (const item of error.problem?.errors ?? []) {
    const path = item.loc
      .filter((part, index) => !(index === 0 && part === "body"))
      .filter((part) => part !== "seated" && part !== "standing")
      .join(".");
    const message = item.msg.replace(/^Value error, /, "");
    found[path] = found[path] ? `${found[path]} ${message}` : message;
  }
  return found;
}
