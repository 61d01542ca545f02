import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { crc32c } from "./crc32c.js";

/** Bit-at-a-time CRC-32C: slow, obviously correct, the oracle for the table-driven version. */
function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32c", () => {
  it("matches the CRC-32C check value for '123456789'", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });

  it("matches the RFC 3720 (iSCSI) test vectors", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it("returns 0 for no bytes and an unsigned 32-bit result", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const value = crc32c(new Uint8Array([0x80, 0x01, 0xfe]));
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(0xffffffff);
    expect(Number.isInteger(value)).toBe(true);
  });

  it("agrees with a bit-at-a-time implementation on every length 0..100 and at unaligned offsets", () => {
    const backing = Uint8Array.from({ length: 200 }, (_, i) => (i * 167 + 13) & 0xff);
    for (let offset = 0; offset < 8; offset++) {
      for (let len = 0; len <= 100; len++) {
        const view = backing.subarray(offset, offset + len);
        expect(crc32c(view)).toBe(crc32cBitwise(view));
      }
    }
  });

  it("agrees with it on large inputs (read as words) at every alignment and tail length, in shared memory too", () => {
    const shared = new Uint8Array(new SharedArrayBuffer(4200));
    for (let i = 0; i < shared.length; i++) shared[i] = (i * 89 + 7) & 0xff;
    const plain = shared.slice();
    for (let offset = 0; offset < 8; offset++) {
      for (const len of [255, 256, 257, 259, 263, 1024, 1031, 4100]) {
        const want = crc32cBitwise(plain.subarray(offset, offset + len));
        expect(crc32c(plain.subarray(offset, offset + len)), `offset ${offset} length ${len}`).toBe(want);
        expect(crc32c(shared.subarray(offset, offset + len)), `shared, offset ${offset} length ${len}`).toBe(want);
        expect(crc32c(plain.subarray(offset + 100, offset + len), crc32c(plain.subarray(offset, offset + 100)))).toBe(want);
        expect(crc32c(plain.subarray(offset), 0, len), `first ${len} bytes`).toBe(want);
      }
    }
  });

  it("continues a checksum when given the previous result as seed", () => {
    const data = new TextEncoder().encode("the quick brown fox jumps over the lazy dog, twice over");
    const whole = crc32c(data);
    for (let cut = 0; cut <= data.length; cut++) {
      expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(whole);
    }
  });

  it("property: equals the bitwise oracle and is incremental at any split", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, splitSeed) => {
        const cut = data.length === 0 ? 0 : splitSeed % (data.length + 1);
        const whole = crc32c(data);
        expect(whole).toBe(crc32cBitwise(data));
        expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(whole);
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });
});
