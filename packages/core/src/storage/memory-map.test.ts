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

  it("gathers scattered records from mapped segments into a target at a stride", () => {
    // Segments of one page each, mapped 200 bytes past their end (as vector-pages.ts overlaps them).
    const segments = [0, 1, 2, 3].map((i) => addon.map!(fd, i * page, page + 200));
    const fileByte = (p: number): number => (p % 251) + 1;
    const positions = Float64Array.of(10, 3 * page + 5, page - 50, 2 * page, 10, 0);
    const target = new ArrayBuffer(7 + 6 * 100 + 9);
    new Uint8Array(target).fill(0xee);
    addon.gather!(segments, page, positions, 5, 90, target, 7, 100);
    const out = new Uint8Array(target);
    for (let j = 0; j < 5; j++) {
      for (let b = 0; b < 100; b++) expect(out[7 + j * 100 + b]).toBe(b < 90 ? fileByte(positions[j]! + b) : 0xee);
    }
    // Only `count` records, nothing before the offset or after the last copy.
    expect(out.subarray(0, 7).every((b) => b === 0xee)).toBe(true);
    expect(out.subarray(7 + 4 * 100 + 90).every((b) => b === 0xee)).toBe(true);
    addon.gather!(segments, page, positions, 0, 90, target, 0, 0);
  });

  it("gather refuses a record outside its mapped segment or a copy outside the target, copying nothing", () => {
    const segments: (ArrayBuffer | undefined)[] = [addon.map!(fd, 0, page + 200), undefined, addon.map!(fd, 2 * page, page + 200)];
    const target = new ArrayBuffer(400);
    const untouched = (): boolean => new Uint8Array(target).every((b) => b === 0);
    const cases: [number[], number][] = [
      [[0, page + 10], 50], // segment 1 is not mapped
      [[0, 3 * page + 1], 50], // no segment 3
      [[0, page - 10], 300], // runs past the segment's overlap
      [[0, -1], 10],
      [[0, 0.5], 10],
    ];
    for (const [at, length] of cases) {
      expect(thrown(() => addon.gather!(segments, page, Float64Array.from(at), 2, length, target, 0, 100))).toBeInstanceOf(RangeError);
      expect(untouched()).toBe(true);
    }
    expect(thrown(() => addon.gather!(segments, page, Float64Array.of(0, 8), 2, 10, target, 390, 5))).toBeInstanceOf(RangeError);
    expect(thrown(() => addon.gather!(segments, page, Float64Array.of(0), 2, 10, target, 0, 10))).toBeInstanceOf(TypeError); // count > positions
    expect(thrown(() => addon.gather!(segments, 0, Float64Array.of(0), 1, 10, target, 0, 10))).toBeInstanceOf(TypeError);
    expect(thrown(() => addon.gather!(segments, page, Float64Array.of(0), 1, 10, new SharedArrayBuffer(10) as never, 0, 10))).toBeInstanceOf(TypeError);
    expect(untouched()).toBe(true);
  });

  it("hands free C heap memory back (glibc) and says whether it did", () => {
    expect(typeof addon.trim!()).toBe("boolean");
  });
});
