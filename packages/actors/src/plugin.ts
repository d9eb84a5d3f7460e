/**
 * Plugins: modules that every node loads at start and that register and spawn actors under
 * `/system` or `/user`. Gossip, replication and users' own actors all join a node this way. A
 * cluster config names plugins by module URL and export name, so the same config starts a
 * cluster in one thread or across worker threads.
 */
import type { AnyActorDef, SpawnOptions } from './actor.ts';
import type { Disk } from './disk.ts';
import { InvalidArgumentError } from './errors.ts';
import type { AnyRef } from './ref.ts';

/** What a plugin's `setup` may do on the node being started. */
export interface PluginContext<O> {
  readonly nodeName: string;
  readonly nodeUid: string;
  /** Every node name of the cluster at start, this one included. */
  readonly clusterNodes: readonly string[];
  /** The cluster's seed (for plugins that derive their own seeded streams). */
  readonly seed: number;
  /** The cluster's `maxMessageAgeMs`: no message older than this is delivered (principle 9), so a plugin can bound how long stale data may still arrive. */
  readonly maxMessageAgeMs: number;
  readonly options: O;
  readonly disk: Disk;
  /** Makes a definition spawnable by name (the host's `spawn` and other nodes use the name). */
  register(def: AnyActorDef): void;
  /** Spawns under `/system` (the node's own services) or `/user`. */
  spawn(under: 'system' | 'user', def: AnyActorDef, props: unknown, options?: SpawnOptions): AnyRef;
}

/** A plugin. Export it from a module; the config names that module and this `name`. */
export interface Plugin<O = undefined> {
  /** Unique among the plugins of a cluster; also how the module's export is found. */
  readonly name: string;
  /** URL of the module that exports this plugin: `import.meta.url`. */
  readonly module: string;
  /** Definitions registered on every node before `setup`. */
  readonly actors?: readonly AnyActorDef[];
  /** Validates options and fills defaults; throw `INVALID_CONFIG` on bad options. */
  readonly options?: (raw: unknown) => O;
  /** Spawns the plugin's actors on a node that is starting. */
  setup?(ctx: PluginContext<O>): void;
}

/** The serialisable reference to a plugin that a cluster config carries. */
export interface PluginSpec {
  readonly module: string;
  readonly name: string;
  readonly options?: unknown;
}

/** Identity helper with type inference for plugin options. */
export function definePlugin<O = undefined>(plugin: Plugin<O>): Plugin<O> {
  return plugin;
}

/** A config entry for `plugin` with typed options. */
export function usePlugin<O>(plugin: Plugin<O>, ...options: undefined extends O ? [options?: O] : [options: O]): PluginSpec {
  const [opts] = options;
  return opts === undefined ? { module: plugin.module, name: plugin.name } : { module: plugin.module, name: plugin.name, options: opts };
}

function isPlugin(x: unknown): x is Plugin<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Plugin<unknown>).name === 'string' && typeof (x as Plugin<unknown>).module === 'string';
}

/** A plugin resolved from its spec, with validated options. */
export interface LoadedPlugin {
  readonly plugin: Plugin<unknown>;
  readonly options: unknown;
}

/** Imports each spec's module and finds the exported plugin. Throws `UNKNOWN_PLUGIN` or the plugin's `INVALID_CONFIG`. */
export async function loadPlugins(specs: readonly PluginSpec[]): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  const names = new Set<string>();
  for (const spec of specs) {
    if (typeof spec?.module !== 'string' || typeof spec.name !== 'string') {
      throw new InvalidArgumentError('INVALID_CONFIG', 'a plugin spec needs { module, name } (use usePlugin)');
    }
    if (names.has(spec.name)) throw new InvalidArgumentError('INVALID_CONFIG', `plugin '${spec.name}' is listed twice`);
    names.add(spec.name);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(spec.module)) as Record<string, unknown>;
    } catch (err) {
      throw new InvalidArgumentError('UNKNOWN_PLUGIN', `cannot import plugin module ${spec.module}: ${(err as Error).message}`, { cause: err });
    }
    const plugin = Object.values(mod).find((v) => isPlugin(v) && v.name === spec.name) as Plugin<unknown> | undefined;
    if (!plugin) throw new InvalidArgumentError('UNKNOWN_PLUGIN', `module ${spec.module} exports no plugin named '${spec.name}'`);
    const options = plugin.options ? plugin.options(spec.options) : spec.options;
    out.push({ plugin, options });
  }
  return out;
}
