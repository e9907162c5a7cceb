/** A 422's errors keyed by where they point, as the form names its fields: `name`,
 * `sections.0.rows.2.seats` (pydantic's union tags such as "seated" dropped). With `t`, pydantic's
 * own wording of the common checks (a bound, a length, a missing or non-numeric value) is said in
 * the page's language instead; a service's own sentence (a value error) is kept as it is. */
import { ApiError } from "../api/client";

/** The pydantic error types said in the page's language (`validation.<type>`, with `n` the bound). */
const TRANSLATED = new Set([
  "missing",
  "string_too_short",
  "string_too_long",
  "too_short",
  "too_long",
  "greater_than",
  "greater_than_equal",
  "less_than",
  "less_than_equal",
  "int_parsing",
  "int_from_float",
  "float_parsing",
]);

type Translate = (key: string, options: { n: string }) => string;

function say(item: { msg: string; type: string }, t?: Translate): string {
  if (t && TRANSLATED.has(item.type)) {
    // The bound is the first number in pydantic's sentence ("at least 1 item …, not 0").
    return t(`validation.${item.type}`, { n: /-?\d+(?:\.\d+)?/.exec(item.msg)?.[0] ?? "" });
  }
  return item.msg.replace(/^Value error, /, "");
}

export function fieldErrors(error: unknown, t?: Translate): Record<string, string> {
  const found: Record<string, string> = {};
  if (!(error instanceof ApiError)) return found;
  for (const item of error.problem?.errors ?? []) {
    const path = item.loc
      .filter((part, index) => !(index === 0 && part === "body"))
      .filter((part) => part !== "seated" && part !== "standing")
      .join(".");
    const message = say(item, t);
    found[path] = found[path] ? `${found[path]} ${message}` : message;
  }
  return found;
}
