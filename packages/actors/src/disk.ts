/**
 * A node's durable area (principle 8). In simulation and local runtimes it lives in the host, so it
 * survives `kill` and `restart` and is wiped only by `restartEmpty`; in threads it lives in the
 * node's worker and is lost with it. Stores keep their data here, never in actor state, so a
 * crash of a storage actor restarts the actor and never the data.
 */
export class Disk {
  private readonly areas = new Map<string, Map<string, unknown>>();

  /** The named area, created empty on first use. */
  area<T>(name: string): Map<string, T> {
    let m = this.areas.get(name);
    if (!m) {
      m = new Map();
      this.areas.set(name, m);
    }
    return m as Map<string, T>;
  }

  /** True when the named area exists (a store uses this to tell "created empty" from "reopened"). */
  has(name: string): boolean {
    return this.areas.has(name);
  }

  /** Names of the areas, for diagnostics. */
  names(): string[] {
    return [...this.areas.keys()];
  }
}
