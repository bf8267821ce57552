import { describe, expect, it } from "vitest";
import { dataDirOf, sqlitePathOf } from "../../../src/cli/store-url.js";

describe("sqlitePathOf", () => {
  it("reads the file path of sqlite: URLs, relative, absolute and with an empty authority", () => {
    expect(sqlitePathOf("sqlite:./data/x.db")).toBe("./data/x.db");
    expect(sqlitePathOf("sqlite:/var/lib/x.db")).toBe("/var/lib/x.db");
    expect(sqlitePathOf("sqlite:///var/lib/x.db")).toBe("/var/lib/x.db");
    expect(sqlitePathOf("sqlite:")).toBe("");
    expect(sqlitePathOf("redis://localhost:6379/0")).toBeUndefined();
    expect(sqlitePathOf("memory:")).toBeUndefined();
  });

  it("gives dataDirOf the same path", () => {
    expect(dataDirOf("sqlite:///var/lib/x.db")).toBe("/var/lib");
    expect(dataDirOf("sqlite:x.db")).toBe(".");
    expect(dataDirOf("redis://localhost:6379/0")).toBe("./data");
  });
});
