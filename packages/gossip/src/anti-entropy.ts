/**
 * Anti-entropy (Demers et al., "Epidemic algorithms for replicated database maintenance", PODC
 * 1987, §1.3) as a pure state machine: every cycle each site picks a partner uniformly at random
 * and the two resolve their differences,
 *
 * - push: the initiator sends what it has that the partner lacks;
 * - pull: the initiator gets what the partner has that it lacks;
 * - push-pull: both.
 *
 * Anti-entropy is a simple epidemic: it never stops by itself, and it reaches every site (the
 * paper's backup for rumor mongering). Pushing alone, one update reaches all n sites in about
 * log2(n) + ln(n) cycles (Pittel 1987, quoted in §1.3); pulling and push-pull finish faster, since
 * the last susceptible sites find the update themselves (a site still lacks it after a pull cycle
 * with probability p², against p·e^-1 for push).
 *
 * The exchange compares digests instead of whole databases: the initiator sends the ids it holds,
 * the partner answers with the updates the initiator lacks (pull) and the ids it wants (push), and
 * the initiator sends those. For one update the digest is its presence; for many it is the set of
 * ids (a store whose ids are (origin, sequence) pairs can send a per-origin version summary
 * instead, the same shape). Updates are immutable: an id names one value.
 */
import { Partners } from './partners.ts';
import type { Rumor, SpreadMode } from './rumor.ts';

/** The anti-entropy variation. */
export interface AntiEntropyConfig {
  /** Default `push-pull`: the fastest of the three, and the one that never leaves a pair half-synchronised. */
  readonly mode: SpreadMode;
}

/** Defaults of {@link AntiEntropyConfig}. */
export const DEFAULT_ANTI_ENTROPY_CONFIG: AntiEntropyConfig = { mode: 'push-pull' };

/** Fills defaults and checks an anti-entropy config; throws `RangeError` naming the bad field. */
export function resolveAntiEntropyConfig(raw: Partial<AntiEntropyConfig> = {}): AntiEntropyConfig {
  const config = { ...DEFAULT_ANTI_ENTROPY_CONFIG, ...raw };
  if (!['push', 'pull', 'push-pull'].includes(config.mode)) throw new RangeError(`anti-entropy mode must be push, pull or push-pull, got ${String(config.mode)}`);
  return config;
}

/** What anti-entropy sites send each other. */
export type AntiEntropyMessage<K, V> =
  /** Opens an exchange: the ids the initiator holds, and which way updates should flow. */
  | { readonly type: 'ae-digest'; readonly mode: SpreadMode; readonly ids: readonly K[] }
  /** The partner's answer: updates the initiator lacks (pull), ids the partner wants (push). */
  | { readonly type: 'ae-reply'; readonly updates: readonly Rumor<K, V>[]; readonly wants: readonly K[] }
  /** Closes a push: the updates the partner asked for. */
  | { readonly type: 'ae-updates'; readonly updates: readonly Rumor<K, V>[] };

/** A message to send to a peer. */
export interface AntiEntropySend<K, V, P> {
  readonly to: P;
  readonly msg: AntiEntropyMessage<K, V>;
}

/** What one input produced. */
export interface AntiEntropyStep<K, V, P> {
  readonly sends: readonly AntiEntropySend<K, V, P>[];
  /** Updates this site learned, including a local update. */
  readonly learned: readonly K[];
}

/** What a site holds of one update. */
export interface AntiEntropyEntry<K, V> {
  readonly update: Rumor<K, V>;
  readonly learnedAtCycle: number;
}

/** Counters of one site, for experiments. */
export interface AntiEntropyCounters {
  /** Messages sent, of every kind (digests included). */
  messagesSent: number;
  /** Copies of updates sent. */
  copiesSent: number;
}

/** How a site is set up. */
export interface AntiEntropySiteOptions<P> {
  readonly self: P;
  /** Every site's address; `self` may be among them (it is never chosen as a partner). */
  readonly peers: readonly P[];
  readonly config?: Partial<AntiEntropyConfig>;
  /** Uniform draws in [0, 1) for partner choice. */
  readonly random: () => number;
}

/** Shared empty outputs: most steps learn or send nothing, and allocate nothing for it. */
const NONE: readonly never[] = Object.freeze([]);

/**
 * One site of anti-entropy over updates keyed by `K` with values `V`, talking to peers addressed
 * by `P`.
 *
 * ```ts
 * const site = new AntiEntropySite<string, string, string>({ self: 'n1', peers: nodes, random: () => rng.next() });
 * site.update('x', 'hello', 0);
 * for (const { to, msg } of site.tick(1).sends) send(to, msg); // each cycle
 * for (const { to, msg } of site.receive(from, msg, cycle).sends) send(to, msg); // each message
 * ```
 */
export class AntiEntropySite<K, V, P> {
  readonly config: AntiEntropyConfig;
  readonly counters: AntiEntropyCounters = { messagesSent: 0, copiesSent: 0 };
  /** This site's address. */
  readonly self: P;
  private readonly partners: Partners<P>;
  private readonly entries = new Map<K, AntiEntropyEntry<K, V>>();
  private sends: AntiEntropySend<K, V, P>[] = [];
  private learned: K[] = [];

  constructor(options: AntiEntropySiteOptions<P>) {
    this.config = resolveAntiEntropyConfig(options.config);
    this.self = options.self;
    this.partners = new Partners(options.self, options.peers, options.random);
  }

  /** True when this site holds `id`. */
  has(id: K): boolean {
    return this.entries.has(id);
  }

  /** What this site holds of `id`, if anything. */
  entry(id: K): AntiEntropyEntry<K, V> | undefined {
    return this.entries.get(id);
  }

  /** Number of updates held. */
  get size(): number {
    return this.entries.size;
  }

  /** Every update held, in the order this site learned them. */
  known(): IterableIterator<AntiEntropyEntry<K, V>> {
    return this.entries.values();
  }

  /** The peers partners are drawn from (a copy). */
  peerList(): P[] {
    return this.partners.list();
  }

  /**
   * Replaces the peers partners are drawn from, as membership changes (self may be among them; it
   * is never chosen). Takes effect at the next partner choice; what is under way is unaffected.
   */
  setPeers(peers: readonly P[]): void {
    this.partners.set(peers);
  }

  /** A local update. */
  update(id: K, value: V, cycle: number): AntiEntropyStep<K, V, P> {
    this.learn({ id, value }, cycle);
    return this.flush();
  }

  /** The start of a cycle: open an exchange with one random partner. */
  tick(cycle: number): AntiEntropyStep<K, V, P> {
    void cycle; // Part of the input for symmetry with `receive`; an exchange opens the same way every cycle.
    const { mode } = this.config;
    // A push from an empty site has nothing to offer; pull and push-pull still ask.
    if (mode !== 'push' || this.entries.size > 0) {
      const partner = this.pickPartner();
      if (partner !== undefined) this.send(partner, { type: 'ae-digest', mode, ids: [...this.entries.keys()] });
    }
    return this.flush();
  }

  /** A message from `from`, received during `cycle`. */
  receive(from: P, msg: AntiEntropyMessage<K, V>, cycle: number): AntiEntropyStep<K, V, P> {
    switch (msg.type) {
      case 'ae-digest': {
        const theirs = new Set(msg.ids);
        const updates = msg.mode === 'push' ? [] : this.missingFrom(theirs);
        const wants = msg.mode === 'pull' ? [] : msg.ids.filter((id) => !this.entries.has(id));
        if (updates.length > 0 || wants.length > 0) this.sendUpdates(from, { type: 'ae-reply', updates, wants });
        break;
      }
      case 'ae-reply': {
        this.absorb(msg.updates, cycle);
        if (msg.wants.length > 0) {
          const updates: Rumor<K, V>[] = [];
          for (const id of msg.wants) {
            const entry = this.entries.get(id);
            if (entry !== undefined) updates.push(entry.update);
          }
          if (updates.length > 0) this.sendUpdates(from, { type: 'ae-updates', updates });
        }
        break;
      }
      case 'ae-updates':
        this.absorb(msg.updates, cycle);
        break;
    }
    return this.flush();
  }

  /** The updates this site holds that are not in `theirs`. */
  private missingFrom(theirs: ReadonlySet<K>): Rumor<K, V>[] {
    const out: Rumor<K, V>[] = [];
    for (const [id, entry] of this.entries) if (!theirs.has(id)) out.push(entry.update);
    return out;
  }

  private absorb(updates: readonly Rumor<K, V>[], cycle: number): void {
    for (const update of updates) this.learn(update, cycle);
  }

  private learn(update: Rumor<K, V>, cycle: number): void {
    if (this.entries.has(update.id)) return;
    this.entries.set(update.id, { update, learnedAtCycle: cycle });
    this.learned.push(update.id);
  }

  private pickPartner(): P | undefined {
    return this.partners.pick();
  }

  private sendUpdates(to: P, msg: Extract<AntiEntropyMessage<K, V>, { updates: unknown }>): void {
    this.counters.copiesSent += msg.updates.length;
    this.send(to, msg);
  }

  private send(to: P, msg: AntiEntropyMessage<K, V>): void {
    this.sends.push({ to, msg });
    this.counters.messagesSent++;
  }

  private flush(): AntiEntropyStep<K, V, P> {
    const step: AntiEntropyStep<K, V, P> = {
      sends: this.sends.length > 0 ? this.sends : NONE,
      learned: this.learned.length > 0 ? this.learned : NONE,
    };
    if (this.sends.length > 0) this.sends = [];
    if (this.learned.length > 0) this.learned = [];
    return step;
  }
}
