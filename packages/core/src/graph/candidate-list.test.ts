import { describe, expect, it } from "vitest";
import { mulberry32 } from "../internal/seeded-random.js";
import { CandidateList } from "./candidate-list.js";

const contents = (list: CandidateList) => Array.from(list.slots.subarray(0, list.size));

describe("CandidateList", () => {
  it("keeps the capacity best pairs in order", () => {
    const list = new CandidateList(3);
    for (const [slot, d] of [[1, 0.5], [2, 0.1], [3, 0.9], [4, 0.3], [5, 0.2]] as const) list.push(slot, d);
    expect(contents(list)).toEqual([2, 5, 4]);
    expect(list.bound).toBeCloseTo(0.3);
  });

  it("grows into exactly what a longer list would hold, keeping what was expanded", () => {
    const rand = mulberry32(3);
    const pairs = Array.from({ length: 200 }, (_, slot) => [slot, rand()] as const);
    const short = new CandidateList(10);
    short.reset(10, true);
    for (const [slot, d] of pairs.slice(0, 120)) short.push(slot, d);
    const first = short.next();
    const expandedSlot = short.slots[first]!;
    // Grows past its arrays' length, then takes in more pairs.
    short.grow(40);
    for (const [slot, d] of pairs.slice(120)) short.push(slot, d);
    const long = new CandidateList(40);
    for (const [slot, d] of pairs) long.push(slot, d);
    expect(contents(short)).toEqual(contents(long));
    expect(Array.from(short.distances.subarray(0, short.size))).toEqual(Array.from(long.distances.subarray(0, long.size)));
    // The expanded pair stays expanded; the others come out nearest first.
    const order: number[] = [];
    for (let i = short.next(); i >= 0; i = short.next()) order.push(short.slots[i]!);
    expect(order).not.toContain(expandedSlot);
    expect(order).toEqual(contents(long).filter((s) => s !== expandedSlot));
    // Growing to the same capacity changes nothing; growing again takes back what the 40 could not hold.
    short.grow(40);
    expect(contents(short)).toEqual(contents(long));
    short.grow(60);
    const longer = new CandidateList(60);
    for (const [slot, d] of pairs) longer.push(slot, d);
    expect(contents(short)).toEqual(contents(longer));
  });

  it("refuses to grow a list that kept no spill", () => {
    const list = new CandidateList(4);
    list.push(1, 0.5);
    expect(() => list.grow(8)).toThrow(/without a spill/);
  });
});
