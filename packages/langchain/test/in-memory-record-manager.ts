/**
 * An in-memory `RecordManager` for LangChain's `index()` (@langchain/core exports none).
 *
 * Time is a logical clock: every `getTime()` and every `update()` advances it by one, so "updated
 * before the indexing run started" is exact and independent of the wall clock's resolution.
 */
import { RecordManager, type ListKeyOptions, type UpdateOptions } from "@langchain/core/indexing";

interface Row {
  updatedAt: number;
  groupId: string | null;
}

export class InMemoryRecordManager extends RecordManager {
  override lc_namespace = ["omendb", "test", "record_manager"];
  /** Key → row, in insertion order. */
  readonly records = new Map<string, Row>();
  private clock = 0;

  async createSchema(): Promise<void> {}

  async getTime(): Promise<number> {
    return ++this.clock;
  }

  async update(keys: string[], options: UpdateOptions = {}): Promise<void> {
    const { groupIds, timeAtLeast } = options;
    if (groupIds !== undefined && groupIds.length !== keys.length) throw new Error("update: one group id per key");
    const now = await this.getTime();
    if (timeAtLeast !== undefined && now < timeAtLeast) throw new Error(`update: time ${now} is before ${timeAtLeast}`);
    keys.forEach((key, i) => {
      const groupId = groupIds?.[i] ?? this.records.get(key)?.groupId ?? null;
      this.records.set(key, { updatedAt: now, groupId });
    });
  }

  async exists(keys: string[]): Promise<boolean[]> {
    return keys.map((key) => this.records.has(key));
  }

  async listKeys(options: ListKeyOptions = {}): Promise<string[]> {
    const { before, after, groupIds, limit } = options;
    const out: string[] = [];
    for (const [key, row] of this.records) {
      if (before !== undefined && !(row.updatedAt < before)) continue;
      if (after !== undefined && !(row.updatedAt > after)) continue;
      if (groupIds !== undefined && !groupIds.includes(row.groupId)) continue;
      out.push(key);
      if (limit !== undefined && out.length >= limit) break;
    }
    return out;
  }

  async deleteKeys(keys: string[]): Promise<void> {
    for (const key of keys) this.records.delete(key);
  }
}
