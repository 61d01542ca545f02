/**
 * Splits a slot list by arena shard (slot s lives in shard ⌊s / shardSlots⌋): for each shard, the
 * positions in `slots[0..count)` of its slots, in list order. Used by the owner's arena and by
 * search threads' readers to compute one kernel batch per shard and scatter the results back.
 */
export function positionsByShard(slots: Uint32Array, count: number, shardSlots: number): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let j = 0; j < count; j++) {
    const i = Math.floor(slots[j]! / shardSlots);
    let group = groups.get(i);
    if (group === undefined) groups.set(i, (group = []));
    group.push(j);
  }
  return groups;
}
