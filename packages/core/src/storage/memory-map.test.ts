import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { thrown } from "../../test/helpers.js";
import { loadMemoryMap } from "./memory-map.js";

const addon = loadMemoryMap();

describe.skipIf(addon.map === undefined)("memory-map addon (built)", () => {
  let dir: string;
  let fd: number;
  const page = 4096;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-mmap-"));
    const file = path.join(dir, "data.bin");
    fs.writeFileSync(file, Uint8Array.from({ length: 3 * page + 100 }, (_, i) => (i % 251) + 1));
    fd = fs.openSync(file, "r");
  });

  afterEach(() => {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("maps a file range read-only", () => {
    const bytes = new Uint8Array(addon.map!(fd, page, 2 * page));
    expect(bytes.length).toBe(2 * page);
    expect(bytes[0]).toBe((page % 251) + 1);
    expect(bytes[2 * page - 1]).toBe(((3 * page - 1) % 251) + 1);
  });

  it("maps a range copy-on-write into a zeroed reservation shared with other threads' views", () => {
    const sab = addon.mapPrivate!(fd, page, page + 10, 10 * page + 3);
    expect(sab).toBeInstanceOf(SharedArrayBuffer);
    expect(sab.byteLength).toBe(10 * page + 3);
    const bytes = new Uint8Array(sab);
    expect(bytes[0]).toBe((page % 251) + 1);
    expect(bytes[page + 9]).toBe(((2 * page + 9) % 251) + 1);
    // Past the mapped length: zeros, though the file's next bytes share that page.
    expect(bytes.subarray(page + 10).every((b) => b === 0)).toBe(true);
    bytes[0] = 0;
    bytes[5 * page] = 7;
    expect(new Uint8Array(fs.readFileSync(path.join(dir, "data.bin")))[page]).toBe((page % 251) + 1);
    expect(new Uint8Array(sab)[5 * page]).toBe(7);
  });

  it("refuses bad arguments and reports mmap's errno as a code", () => {
    expect(thrown(() => addon.mapPrivate!(fd, 0, 20, 10))).toBeInstanceOf(TypeError);
    expect(thrown(() => addon.map!(fd, 0, 0))).toBeInstanceOf(TypeError);
    expect(thrown(() => addon.mapPrivate!(fd, 1, 10, 20))).toMatchObject({ code: "OMENDB_MMAP_22" }); // offset not page-aligned
  });

  it("hands free C heap memory back (glibc) and says whether it did", () => {
    expect(typeof addon.trim!()).toBe("boolean");
  });
});
