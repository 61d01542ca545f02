import { describe, expect, it } from "vitest";
import { mulberry32, randomInt, type RandomSource } from "../internal/seeded-random.js";
import type { Metadata } from "../types.js";
import { idHash, RecordTable } from "./record-table.js";

interface ModelRow {
  id: string;
  seq: number;
  metadata: Metadata | undefined;
  hasDocument?: boolean;
}

/** The oracle: a Map and plain arrays with the semantics stated at the top of record-table.ts. */
class Model {
  readonly slotById = new Map<string, number>();
  rows: (ModelRow | undefined)[] = [];
  free: number[] = [];

  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    this.rows.push(undefined);
    return this.rows.length - 1;
  }

  set(slot: number, row: ModelRow): void {
    const old = this.rows[slot];
    if (old !== undefined && old.id !== row.id) this.slotById.delete(old.id);
    this.rows[slot] = row;
    this.slotById.set(row.id, slot);
  }

  remove(id: string): number | undefined {
    const slot = this.slotById.get(id);
    if (slot === undefined) return undefined;
    this.slotById.delete(id);
    this.rows[slot] = undefined;
    this.free.push(slot);
    return slot;
  }

  /** What a reopen sees: the live rows only; holes reused lowest first. */
  reopen(): void {
    while (this.rows.length > 0 && this.rows[this.rows.length - 1] === undefined) this.rows.pop();
    this.free = [];
    for (let s = this.rows.length - 1; s >= 0; s--) if (this.rows[s] === undefined) this.free.push(s);
  }
}

/** Every way an id is stored or compared differently: narrow/wide, header sizes, decode paths. */
function idUniverse(random: RandomSource, count: number): string[] {
  const ids = new Set<string>();
  const pick = (choices: string | readonly string[]) => choices[randomInt(random, choices.length)]!;
  const ascii = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + randomInt(random, 95))).join("");
  while (ids.size < count) {
    const kind = randomInt(random, 12);
    let id: string;
    if (kind === 0) id = String(randomInt(random, 1000));
    else if (kind === 1) id = ascii(1 + randomInt(random, 12)); // around the 8-unit decode switch
    else if (kind === 2) id = ascii(60 + randomInt(random, 10)); // around the 1/2-byte header edge (64 units)
    else if (kind === 3) id = ascii(100 + randomInt(random, 412));
    else if (kind === 4) id = ascii(1 + randomInt(random, 6)) + pick("éÿ\u0080\u00a0ß") + ascii(randomInt(random, 4)); // Latin-1, narrow
    else if (kind === 5) id = ascii(randomInt(random, 5)) + pick(["中", "\u0100", "\uffff", "😀", "\u{10ffff}"]) + ascii(randomInt(random, 5)); // wide
    else if (kind === 6) id = ascii(randomInt(random, 3)) + pick(["\ud800", "\udc00", "\udbff", "\udfff"]) + ascii(randomInt(random, 3)); // lone surrogates
    else if (kind === 7) id = pick(["\u0000", "\u0000\u0000", "a\u0000b"]) + ascii(randomInt(random, 3));
    else if (kind === 8) id = "中".repeat(40 + randomInt(random, 30)); // wide with a 2-byte header
    else {
      // A near twin of an id already chosen: case flipped, one unit changed, one appended or dropped.
      const base = [...ids][randomInt(random, ids.size)] ?? "seed";
      const at = randomInt(random, base.length);
      const variants = [
        base.toUpperCase(),
        base.toLowerCase(),
        base.slice(0, at) + String.fromCharCode((base.charCodeAt(at) + 1) & 0xffff) + base.slice(at + 1),
        base + pick("a0é中"),
        base.slice(0, -1),
        base.slice(1),
      ];
      id = variants[randomInt(random, variants.length)]!;
    }
    if (id.length > 0) ids.add(id);
  }
  return [...ids];
}

function randomMetadata(random: RandomSource, seq: number): Metadata | undefined {
  const r = random();
  if (r < 0.5) return undefined;
  if (r < 0.8) return { seq, tag: `t${randomInt(random, 5)}` };
  return { nested: { list: [seq, "x", null, true], deep: { n: -seq } } };
}

/** Asserts that `table` and `model` agree on everything observable (one deep comparison: fast). */
function expectSame(table: RecordTable, model: Model, absent: readonly string[]): void {
  const view = (slotOf: (id: string) => number | undefined, rows: (ModelRow | undefined)[], live: number[], size: number, limit: number) => ({
    size,
    limit,
    rows,
    live,
    slots: rows.map((row) => (row === undefined ? undefined : slotOf(row.id))),
    absent: absent.filter((id) => !model.slotById.has(id)).map(slotOf),
  });
  const actualRows = Array.from({ length: table.slotLimit }, (_, s): ModelRow | undefined => {
    const id = table.idAt(s);
    if (id === undefined) return undefined;
    const metadata = table.metadataCopyAt(s);
    return { id, seq: table.seqAt(s), metadata: Object.keys(metadata).length === 0 ? undefined : metadata, hasDocument: table.hasDocumentAt(s) };
  });
  const seen: number[] = [];
  table.forEachLive((slot) => seen.push(slot));
  const expectedRows = model.rows.map((row) =>
    row === undefined ? undefined : { ...row, metadata: row.metadata === undefined || Object.keys(row.metadata).length === 0 ? undefined : row.metadata, hasDocument: row.hasDocument === true },
  );
  const expectedLive = model.rows.flatMap((row, slot) => (row === undefined ? [] : [slot]));
  expect(view((id) => table.slotOf(id), actualRows, seen, table.size, table.slotLimit)).toEqual(
    view((id) => model.slotById.get(id), expectedRows, expectedLive, model.slotById.size, model.rows.length),
  );
  expect(table.idAt(model.rows.length)).toBeUndefined();
  expect(table.seqAt(model.rows.length)).toBe(Number.POSITIVE_INFINITY);
}

/** The table a reopen builds: the model's live rows loaded in a random order. */
function reload(random: RandomSource, model: Model): RecordTable {
  const table = new RecordTable();
  const slots = model.rows.flatMap((row, slot) => (row === undefined ? [] : [slot]));
  for (let i = slots.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  for (const slot of slots) {
    const row = model.rows[slot]!;
    table.load(slot, row.id, row.seq, row.metadata, row.hasDocument === true);
  }
  table.finishLoad();
  return table;
}

describe("RecordTable", () => {
  it("agrees with a Map-based model over random allocate/set/remove/unallocate/reload sequences", () => {
    const random = mulberry32(20251126);
    let compactions = 0;
    for (let run = 0; run < 12; run++) {
      const universe = idUniverse(random, 40 + randomInt(random, 400));
      const model = new Model();
      let table = new RecordTable();
      let seq = 0;
      for (let step = 0; step < 600; step++) {
        const op = random();
        const touched: string[] = [];
        if (op < 0.45) {
          // An upsert batch: new ids get allocated slots, existing ones keep theirs.
          const batch = new Set(Array.from({ length: 1 + randomInt(random, 6) }, () => universe[randomInt(random, universe.length)]!));
          const plan = [...batch].map((id) => {
            const existing = table.slotOf(id);
            expect(existing).toBe(model.slotById.get(id));
            return { id, slot: existing ?? table.allocate(), fresh: existing === undefined };
          });
          for (const p of plan) if (p.fresh) expect(p.slot).toBe(model.allocate());
          if (random() < 0.1) {
            // The SQLite write failed: fresh slots go back, most recently allocated last.
            for (const p of plan) {
              if (!p.fresh) continue;
              table.unallocate(p.slot);
              model.free.push(p.slot);
            }
          } else {
            for (const p of plan) {
              const rowSeq = p.fresh ? ++seq : model.rows[p.slot]!.seq;
              const metadata = randomMetadata(random, rowSeq);
              const hasDocument = random() < 0.5;
              table.set(p.slot, p.id, rowSeq, metadata, hasDocument);
              model.set(p.slot, { id: p.id, seq: rowSeq, metadata, hasDocument });
              touched.push(p.id);
            }
          }
        } else if (op < 0.8) {
          const id = universe[randomInt(random, universe.length)]!;
          const before = table.byteLength;
          expect(table.remove(id)).toBe(model.remove(id));
          if (table.byteLength < before) compactions++;
          touched.push(id);
        } else if (op < 0.9 && model.slotById.size > 0) {
          // A live slot takes a different id (not live elsewhere).
          const slots = [...model.slotById.values()];
          const slot = slots[randomInt(random, slots.length)]!;
          const id = universe[randomInt(random, universe.length)]!;
          if (!model.slotById.has(id)) {
            const old = model.rows[slot]!.id;
            table.set(slot, id, ++seq, undefined, false);
            model.set(slot, { id, seq, metadata: undefined, hasDocument: false });
            touched.push(id, old);
          }
        } else if (op < 0.93) {
          model.reopen();
          table = reload(random, model);
        } else if (op < 0.95) {
          // Delete most of what is stored: the pool must compact.
          for (const id of [...model.slotById.keys()]) {
            if (random() < 0.9) expect(table.remove(id)).toBe(model.remove(id));
          }
        }
        for (const id of touched) {
          expect(table.slotOf(id)).toBe(model.slotById.get(id));
          const slot = model.slotById.get(id);
          if (slot !== undefined) expect(table.idAt(slot)).toBe(id);
        }
        if (step % 25 === 0) expectSame(table, model, universe);
      }
      expectSame(table, model, universe);
      model.reopen();
      expectSame(reload(random, model), model, universe);
    }
    expect(compactions).toBeGreaterThan(0);
  });

  it("round-trips every id exactly, lone surrogates and NULs included", () => {
    const ids = ["a", "\ud800", "x\udfff", "\udc00\ud800", "😀", "\u0000", "é", "ÿ\u0100", "\uffff", "a".repeat(63), "a".repeat(64), "é".repeat(70), "中".repeat(64), "k".repeat(0x3fff)];
    const table = new RecordTable();
    for (const id of ids) table.set(table.allocate(), id, 1, undefined, false);
    ids.forEach((id, slot) => {
      expect(table.idAt(slot)).toBe(id);
      expect(table.slotOf(id)).toBe(slot);
    });
    expect(table.slotOf("\ufffd")).toBeUndefined();
    expect(table.slotOf("A")).toBeUndefined();
    expect(table.slotOf("a".repeat(65))).toBeUndefined();
  });

  it("finds and removes ids whose home buckets collide, clusters wrapping past the last bucket", () => {
    // A fresh table has 16 buckets and holds 8 ids before it grows: pick 8 ids homed at 14, 15, 0.
    const homes = [14, 14, 14, 15, 15, 0, 0, 14];
    const ids: string[] = [];
    for (const home of homes) {
      let i = 0;
      while ((idHash(`c${i}`) & 15) !== home || ids.includes(`c${i}`)) i++;
      ids.push(`c${i}`);
    }
    const random = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const table = new RecordTable();
      const model = new Model();
      for (const id of ids) {
        const slot = table.allocate();
        model.allocate();
        table.set(slot, id, slot, undefined, false);
        model.set(slot, { id, seq: slot, metadata: undefined });
      }
      const order = [...ids].sort(() => random() - 0.5);
      for (const id of order) {
        expect(table.remove(id)).toBe(model.remove(id));
        expectSame(table, model, ids);
      }
    }
  });

  it("reuses the most recently freed slot first after removes and unallocate", () => {
    const table = new RecordTable();
    for (const id of ["a", "b", "c", "d", "e"]) table.set(table.allocate(), id, 0, undefined, false);
    expect(table.remove("b")).toBe(1);
    expect(table.remove("d")).toBe(3);
    expect(table.remove("zz")).toBeUndefined();
    expect(table.allocate()).toBe(3);
    table.unallocate(3);
    expect(table.allocate()).toBe(3);
    expect(table.allocate()).toBe(1);
    expect(table.allocate()).toBe(5);
    expect(table.slotLimit).toBe(6);
  });

  it("reuses the lowest holes first after a load", () => {
    const table = new RecordTable();
    table.load(5, "five", 3, { n: 5 }, false);
    table.load(0, "zero", 1, undefined, false);
    table.load(2, "two", 2, undefined, false);
    table.finishLoad();
    expect(table.size).toBe(3);
    expect(table.slotLimit).toBe(6);
    expect(table.slotOf("five")).toBe(5);
    expect(table.metadataCopyAt(5)).toEqual({ n: 5 });
    expect([table.allocate(), table.allocate(), table.allocate(), table.allocate()]).toEqual([1, 3, 4, 6]);
  });

  it("hands out metadata copies the caller may change", () => {
    const table = new RecordTable();
    const slot = table.allocate();
    table.set(slot, "m", 1, { a: { b: [1] } }, true);
    const copy = table.metadataCopyAt(slot);
    (copy["a"] as { b: number[] }).b.push(2);
    expect(table.metadataCopyAt(slot)).toEqual({ a: { b: [1] } });
    table.set(slot, "m", 1, undefined, false);
    expect(table.metadataCopyAt(slot)).toEqual({});
  });

  it("compacts the id pool once removed ids make up more than half of it", () => {
    const table = new RecordTable();
    const ids = Array.from({ length: 2000 }, (_, i) => `${i}:${"x".repeat(300)}`);
    for (const id of ids) table.set(table.allocate(), id, 0, undefined, false);
    const full = table.byteLength;
    for (let i = 0; i < ids.length; i++) if (i % 20 !== 0) table.remove(ids[i]!);
    expect(table.byteLength).toBeLessThan(full / 4);
    for (let i = 0; i < ids.length; i++) expect(table.slotOf(ids[i]!)).toBe(i % 20 === 0 ? i : undefined);
    expect(table.idAt(40)).toBe(ids[40]);
  });

  it("rejects misuse: unallocated slots, ids live elsewhere, empty ids, repeated loads", () => {
    const table = new RecordTable();
    expect(() => table.set(0, "a", 0, undefined, false)).toThrow(RangeError);
    table.set(table.allocate(), "a", 0, undefined, false);
    const other = table.allocate();
    expect(() => table.set(other, "a", 0, undefined, false)).toThrow(/live at slot 0/);
    expect(() => table.set(other, "", 0, undefined, false)).toThrow(RangeError);

    const loaded = new RecordTable();
    loaded.load(0, "a", 0, undefined, false);
    expect(() => loaded.load(0, "b", 0, undefined, false)).toThrow(/loaded twice/);
    loaded.load(1, "a", 0, undefined, false);
    expect(() => loaded.finishLoad()).toThrow(/loaded at slots 0 and 1/);
  });
});
