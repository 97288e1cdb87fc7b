/**
 * Live mappings by op id. Ids are usually small integers (1, 2, 3, ...): those live in an array,
 * which costs a fraction of a Map lookup per op; any other id (strings, huge numbers) in a Map.
 */
import type { OpId } from './format';

const DENSE_LIMIT = 1 << 24;

export class IdTable<T> {
  private readonly dense: (T | undefined)[] = [];
  private readonly sparse = new Map<OpId, T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: OpId): T | undefined {
    return typeof id === 'number' && id >= 0 && id < DENSE_LIMIT ? this.dense[id] : this.sparse.get(id);
  }

  set(id: OpId, value: T): void {
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT) {
      if (this.dense[id] === undefined) this.count++;
      this.dense[id] = value;
    } else {
      if (!this.sparse.has(id)) this.count++;
      this.sparse.set(id, value);
    }
  }

  delete(id: OpId): boolean {
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT) {
      if (this.dense[id] === undefined) return false;
      this.dense[id] = undefined;
    } else if (!this.sparse.delete(id)) {
      return false;
    }
    this.count--;
    return true;
  }
}
