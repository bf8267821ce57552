import { describe, expect, it } from "vitest";
import { ERROR_CODES, IntercomBridgeError } from "../../src/core/errors.js";
import { STATUS_BY_CODE, toErrorResponse } from "../../src/http/status.js";

describe("the status table", () => {
  it("maps every error code, and none to 410 or 429 (Intercom would disable or throttle the subscription)", () => {
    for (const code of ERROR_CODES) {
      const status = STATUS_BY_CODE[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect([410, 429], code).not.toContain(status);
    }
    expect(Object.keys(STATUS_BY_CODE).sort()).toEqual([...ERROR_CODES].sort());
  });

  it.each([
    ["IB_ERR_SIGNATURE_MISSING", 401],
    ["IB_ERR_SIGNATURE_INVALID", 401],
    ["IB_ERR_PAYLOAD_INVALID", 400],
    ["IB_ERR_BODY_TOO_LARGE", 413],
    ["IB_ERR_METHOD_NOT_ALLOWED", 405],
    ["IB_ERR_UNSUPPORTED_MEDIA_TYPE", 415],
    ["IB_ERR_STORE_UNAVAILABLE", 503],
    ["IB_ERR_SHUTTING_DOWN", 503],
    ["IB_ERR_RAW_BODY_UNAVAILABLE", 500],
  ] as const)("answers %s with %i and the error's own code and message", (code, status) => {
    expect(toErrorResponse(new IntercomBridgeError(code, "what happened"))).toEqual({
      status,
      body: { error: { code, message: "what happened" } },
    });
  });

  it("answers anything else with a generic 500 that never carries its message", () => {
    const r = toErrorResponse(new Error("connect ECONNREFUSED 10.0.0.5:5432 password=hunter2"));
    expect(r).toEqual({ status: 500, body: { error: { code: "IB_ERR_INTERNAL", message: "Internal error" } } });
    expect(toErrorResponse("a string").status).toBe(500);
  });
});
