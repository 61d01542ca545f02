import { AlreadyExistsError, ErrorCode, NotFoundError, ValidationError } from "@omendb/core";
import { describe, expect, it } from "vitest";
import { ChromaHttpError, HttpErrorCode, STATUS_BY_CODE, toChromaError } from "./chroma-errors.js";

describe("toChromaError", () => {
  it("maps every core error code", () => {
    for (const code of Object.values(ErrorCode)) expect(STATUS_BY_CODE[code], code).toBeDefined();
  });

  it("maps every server error code", () => {
    for (const code of Object.values(HttpErrorCode)) expect(STATUS_BY_CODE[code], code).toBeDefined();
  });

  it("turns core errors into Chroma's shape with their status", () => {
    expect(toChromaError(new ValidationError(ErrorCode.DIMENSION_MISMATCH, "bad dim"))).toEqual({
      status: 400,
      body: { error: "InvalidArgumentError", message: "bad dim", code: "DIMENSION_MISMATCH" },
    });
    expect(toChromaError(new NotFoundError(ErrorCode.COLLECTION_NOT_FOUND, "gone")).status).toBe(404);
    expect(toChromaError(new AlreadyExistsError(ErrorCode.COLLECTION_EXISTS, "dup")).status).toBe(409);
  });

  it("keeps server errors' codes", () => {
    expect(toChromaError(new ChromaHttpError(HttpErrorCode.UNAUTHORIZED, "no key")).status).toBe(401);
    expect(toChromaError(new ChromaHttpError(HttpErrorCode.NOT_IMPLEMENTED, "later")).status).toBe(501);
    expect(toChromaError(new ChromaHttpError(HttpErrorCode.NOT_IMPLEMENTED, "later")).body.message).toBe("later");
  });

  it("hides the message of unexpected errors", () => {
    const { status, body } = toChromaError(new Error("secret stack detail"));
    expect(status).toBe(500);
    expect(body.message).not.toContain("secret");
  });

  it("keeps 4xx statuses of foreign errors", () => {
    const err = Object.assign(new Error("weird"), { statusCode: 422 });
    expect(toChromaError(err).status).toBe(422);
  });
});
