/** @module Tests for responseFailure()/responseJson(): the node's error shape becomes its code and details; anything else is http_error. */
import { describe, expect, test } from "bun:test";
import { ControlApiError, responseFailure, responseJson } from "./control-api-error.ts";

const reply = (status: number, body: string) => new Response(body, { status });

describe("responseFailure()", () => {
  const cases: Array<
    [string, number, string, { code: string; message: string; details: Record<string, unknown> }]
  > = [
    [
      "the API's error shape, with its extra fields as details",
      409,
      JSON.stringify({ error: { code: "offset_mismatch", message: "node holds 10", received: 10 } }),
      { code: "offset_mismatch", message: "409 offset_mismatch: node holds 10", details: { received: 10 } },
    ],
    [
      "a body that is not JSON",
      502,
      "<html>bad gateway</html>",
      { code: "http_error", message: "HTTP 502: <html>bad gateway</html>", details: {} },
    ],
    [
      "JSON without an error code",
      500,
      JSON.stringify({ error: { message: "no code" } }),
      { code: "http_error", message: 'HTTP 500: {"error":{"message":"no code"}}', details: {} },
    ],
    ["JSON null", 503, "null", { code: "http_error", message: "HTTP 503: null", details: {} }],
    ["an empty body", 404, "", { code: "http_error", message: "HTTP 404: ", details: {} }],
  ];
  test.each(cases)("responseFailure() reads %s", async (_, status, body, want) => {
    const err = await responseFailure(reply(status, body));
    expect(err).toBeInstanceOf(ControlApiError);
    expect({ status: err.status, code: err.code, message: err.message, details: err.details }).toEqual({
      status,
      ...want,
    });
  });

  test("responseFailure() keeps only the first 200 characters of a foreign body", async () => {
    const err = await responseFailure(reply(500, "x".repeat(5000)));
    expect(err.message).toBe(`HTTP 500: ${"x".repeat(200)}`);
  });

  test("responseFailure() never throws on 300 random or truncated bodies", async () => {
    const shaped = JSON.stringify({
      error: { code: "callee_busy", message: "busy", store: { offered: true } },
    });
    for (let i = 0; i < 300; i++) {
      const body =
        i % 2
          ? Buffer.from(crypto.getRandomValues(new Uint8Array(i))).toString("latin1")
          : shaped.slice(0, i);
      const err = await responseFailure(reply(400 + (i % 100), body));
      expect(err).toBeInstanceOf(ControlApiError);
      expect(typeof err.code).toBe("string");
    }
  });
});

describe("responseJson()", () => {
  test("responseJson() returns a 2xx body", async () => {
    expect(await responseJson<{ ok: boolean }>(reply(200, '{"ok":true}'))).toEqual({ ok: true });
  });
  test("responseJson() throws the ControlApiError of a refusal", async () => {
    const refused = reply(403, JSON.stringify({ error: { code: "permission_denied", message: "no" } }));
    await expect(responseJson(refused)).rejects.toMatchObject({ status: 403, code: "permission_denied" });
  });
});
