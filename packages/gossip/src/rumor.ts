/**
 * Rumor mongering (Demers et al., "Epidemic algorithms for replicated database maintenance",
 * PODC 1987, §1.4) as a pure state machine.
 *
 * With respect to one update a site is susceptible (does not know it), infective (knows it and
 * spreads it: a "hot rumor") or removed (knows it, no longer spreads it). Each cycle a site
 * contacts one partner chosen uniformly at random:
 *
 * - push: an infective site sends its hot rumors to the partner;
 * - pull: every site asks the partner, which answers with its hot rumors;
 * - push-pull: both, in one exchange.
 *
 * A site loses interest in a rumor after feedback (the partner already knew it) or blindly (after
 * every send, whatever the partner knew), either by counter (after `k` such events; with feedback,
 * `k` in a row: news resets the counter) or by coin (with probability 1/k at each one). The
 * decision is taken once per cycle, at the next tick, from all of the cycle's contacts.
 *
 * A site holds many updates, each with its own status and counter, so the same code serves the
 * paper's single-update experiments and a broadcast of many values. Inputs: a cycle tick, a
 * received message, a local update. Outputs: the messages to send, as data, and which updates
 * were learned or dropped from the hot list. No clock, no I/O; randomness comes in through the
 * constructor, so a run replays from its seed and a test drives the protocol message by message.
 */
import { assert } from './assert.ts';
import { Partners } from './partners.ts';

/** Who starts the transfer of an exchange (Demers et al. §1.3, for anti-entropy and rumors alike). */
export type SpreadMode = 'push' | 'pull' | 'push-pull';

/** What makes a site lose interest in a rumor: the partner's answer, or nothing (every send counts). */
export type RemovalTrigger = 'feedback' | 'blind';

/** How those events end the spreading: after `k` of them, or with probability 1/k at each. */
export type StopRule = 'counter' | 'coin';

/** The variation of rumor mongering, in the paper's terms. */
export interface RumorConfig {
  /** Default `push`, the variation of the paper's Tables 1 and 2. */
  readonly mode: SpreadMode;
  /** Default `feedback` (Table 1). */
  readonly removal: RemovalTrigger;
  /** Default `counter` (Table 1). */
  readonly stop: StopRule;
  /**
   * The counter's limit, or the coin's 1/k. Default 3: Table 1 measures a residue of 1.1% and 4.5
   * update messages per site at k = 3 on 1000 sites; each step of k divides the residue by about 3.
   */
  readonly k: number;
}

/** Defaults of {@link RumorConfig}. */
export const DEFAULT_RUMOR_CONFIG: RumorConfig = { mode: 'push', removal: 'feedback', stop: 'counter', k: 3 };

/** Fills defaults and checks a rumor config; throws `RangeError` naming the bad field. */
export function resolveRumorConfig(raw: Partial<RumorConfig> = {}): RumorConfig {
  const config = { ...DEFAULT_RUMOR_CONFIG, ...raw };
  if (!['push', 'pull', 'push-pull'].includes(config.mode)) throw new RangeError(`rumor mode must be push, pull or push-pull, got ${String(config.mode)}`);
  if (!['feedback', 'blind'].includes(config.removal)) throw new RangeError(`rumor removal must be feedback or blind, got ${String(config.removal)}`);
  if (!['counter', 'coin'].includes(config.stop)) throw new RangeError(`rumor stop must be counter or coin, got ${String(config.stop)}`);
  if (!Number.isInteger(config.k) || config.k < 1) throw new RangeError(`rumor k must be an integer >= 1, got ${String(config.k)}`);
  return config;
}

/** An update as it travels: its id and its value. */
export interface Rumor<K, V> {
  readonly id: K;
  readonly value: V;
}

/** What rumor-mongering sites send each other. */
export type RumorMessage<K, V> =
  /** Push: the sender's hot rumors. */
  | { readonly type: 'rumor-push'; readonly rumors: readonly Rumor<K, V>[] }
  /** Pull: "send me your hot rumors". */
  | { readonly type: 'rumor-pull' }
  /** Push-pull: the sender's hot rumors (possibly none), and a request for the partner's. */
  | { readonly type: 'rumor-push-pull'; readonly rumors: readonly Rumor<K, V>[] }
  /** The answer to a pull or a push-pull: the answerer's hot rumors, and feedback on the pushed ones. */
  | { readonly type: 'rumor-reply'; readonly rumors: readonly Rumor<K, V>[]; readonly known: readonly K[]; readonly news: readonly K[] }
  /** Feedback on the rumors just received from the addressee: which the receiver already knew, which were news. */
  | { readonly type: 'rumor-feedback'; readonly known: readonly K[]; readonly news: readonly K[] };

/** A message to send to a peer. */
export interface RumorSend<K, V, P> {
  readonly to: P;
  readonly msg: RumorMessage<K, V>;
}

/** What one input produced. */
export interface RumorStep<K, V, P> {
  /** Messages to send, in order. */
  readonly sends: readonly RumorSend<K, V, P>[];
  /** Updates this site learned (susceptible → infective), including a local update. */
  readonly learned: readonly K[];
  /** Updates this site stopped spreading (infective → removed). */
  readonly removed: readonly K[];
}

/** A site's status for one update. */
export type RumorStatus = 'susceptible' | 'infective' | 'removed';

/** What a site knows of one update. */
export interface RumorEntry<K, V> {
  readonly rumor: Rumor<K, V>;
  readonly status: Exclude<RumorStatus, 'susceptible'>;
  /** Removal events counted: cycles since the last necessary contact whose contacts all found the partner knowing (feedback), or cycles with a send (blind). */
  readonly counter: number;
  /** Copies of this update this site sent (the paper's traffic counts these). */
  readonly copiesSent: number;
  /** The cycle at which this site learned it. */
  readonly learnedAtCycle: number;
}

interface MutableEntry<K, V> {
  readonly rumor: Rumor<K, V>;
  status: 'infective' | 'removed';
  counter: number;
  copiesSent: number;
  readonly learnedAtCycle: number;
  /** What happened to it since the last tick: {@link SENT}, {@link HEARD_KNOWN}, {@link HEARD_NEWS} bits. */
  contacts: number;
}

/** A copy went out (a removal event under blind removal). */
const SENT = 1;
/** A partner already knew it (a removal event under feedback). */
const HEARD_KNOWN = 2;
/** A partner did not know it (resets the counter under feedback). */
const HEARD_NEWS = 4;

/** Counters of one site, for experiments. */
export interface RumorCounters {
  /** Messages sent, of every kind. */
  messagesSent: number;
  /** Copies of updates sent (one message carrying three rumors counts three). */
  copiesSent: number;
}

/** How a site is set up. */
export interface RumorSiteOptions<P> {
  /** This site's address. */
  readonly self: P;
  /** Every site's address; `self` may be among them (it is never chosen as a partner). */
  readonly peers: readonly P[];
  readonly config?: Partial<RumorConfig>;
  /** Uniform draws in [0, 1): partner choice and coins. */
  readonly random: () => number;
}


/** Shared empty outputs: most steps learn, remove or send nothing, and allocate nothing for it. */
const NONE: readonly never[] = Object.freeze([]);

/** What a receiver says about the rumors it got. */
interface Feedback<K> {
  readonly known: readonly K[];
  readonly news: readonly K[];
}

const NO_FEEDBACK: Feedback<never> = Object.freeze({ known: NONE, news: NONE });

/**
 * One site of a rumor-mongering epidemic, over updates keyed by `K` with values `V`, talking to
 * peers addressed by `P`.
 *
 * ```ts
 * const site = new RumorSite<string, string, string>({ self: 'n1', peers: nodes, random: () => rng.next() });
 * site.update('x', 'hello', 0); // a local update: infective
 * for (const { to, msg } of site.tick(1).sends) send(to, msg); // each cycle
 * for (const { to, msg } of site.receive(from, msg, cycle).sends) send(to, msg); // each message
 * ```
 */
export class RumorSite<K, V, P> {
  readonly config: RumorConfig;
  readonly counters: RumorCounters = { messagesSent: 0, copiesSent: 0 };
  /** This site's address. */
  readonly self: P;
  private readonly partners: Partners<P>;
  private readonly random: () => number;
  private readonly entries = new Map<K, MutableEntry<K, V>>();
  /** The infective entries, in the order they became infective: a tick iterates only these. */
  private readonly hot = new Map<K, MutableEntry<K, V>>();
  private sends: RumorSend<K, V, P>[] = [];
  private learned: K[] = [];
  private removed: K[] = [];

  constructor(options: RumorSiteOptions<P>) {
    this.config = resolveRumorConfig(options.config);
    this.self = options.self;
    this.partners = new Partners(options.self, options.peers, options.random);
    this.random = options.random;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /** This site's status for `id`. */
  status(id: K): RumorStatus {
    return this.entries.get(id)?.status ?? 'susceptible';
  }

  /** What this site knows of `id`, if anything (a live view: it changes as the site runs). */
  entry(id: K): RumorEntry<K, V> | undefined {
    return this.entries.get(id);
  }

  /** Ids of the updates this site is spreading. */
  hotIds(): K[] {
    return [...this.hot.keys()];
  }

  /** True while this site spreads at least one rumor. */
  get isInfective(): boolean {
    return this.hot.size > 0;
  }

  /** Every update this site knows, in the order it learned them. */
  known(): IterableIterator<RumorEntry<K, V>> {
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

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** A local update: this site knows it and starts spreading it (unless it knew it already). */
  update(id: K, value: V, cycle: number): RumorStep<K, V, P> {
    this.learn({ id, value }, cycle);
    return this.flush();
  }

  /**
   * The start of a cycle: first settle last cycle's contacts (which rumors this site loses
   * interest in), then contact one random partner, as the mode says.
   */
  tick(cycle: number): RumorStep<K, V, P> {
    void cycle; // Part of the input for symmetry with `receive`; a tick's effects do not depend on it.
    this.settleContacts();
    const { mode } = this.config;
    if (mode === 'push') {
      if (this.hot.size > 0) {
        const partner = this.pickPartner();
        if (partner !== undefined) this.send(partner, { type: 'rumor-push', rumors: this.spread() });
      }
    } else if (mode === 'pull') {
      // Every site asks, infective or not: pull finds the rumor from the susceptible side.
      const partner = this.pickPartner();
      if (partner !== undefined) this.send(partner, { type: 'rumor-pull' });
    } else {
      const partner = this.pickPartner();
      if (partner !== undefined) this.send(partner, { type: 'rumor-push-pull', rumors: this.spread() });
    }
    return this.flush();
  }

  /** A message from `from`, received during `cycle`. */
  receive(from: P, msg: RumorMessage<K, V>, cycle: number): RumorStep<K, V, P> {
    switch (msg.type) {
      case 'rumor-push': {
        const feedback = this.absorb(msg.rumors, cycle);
        if (this.config.removal === 'feedback' && msg.rumors.length > 0) this.send(from, { type: 'rumor-feedback', ...feedback });
        break;
      }
      case 'rumor-pull': {
        // Nothing hot, nothing to say: the requester learns nothing either way.
        if (this.hot.size > 0) this.send(from, { type: 'rumor-reply', rumors: this.spread(), known: NONE, news: NONE });
        break;
      }
      case 'rumor-push-pull': {
        const feedback = this.absorb(msg.rumors, cycle);
        // The initiator knows what it just pushed: answer only with the rest of this site's hot rumors.
        const pushed = msg.rumors.length > 0 ? new Set(msg.rumors.map((r) => r.id)) : undefined;
        const rumors = this.spread(pushed);
        const { known, news } = this.config.removal === 'feedback' ? feedback : NO_FEEDBACK;
        if (rumors.length > 0 || known.length > 0 || news.length > 0) this.send(from, { type: 'rumor-reply', rumors, known, news });
        break;
      }
      case 'rumor-reply': {
        this.noteFeedback(msg.known, msg.news);
        const feedback = this.absorb(msg.rumors, cycle);
        if (this.config.removal === 'feedback' && msg.rumors.length > 0) this.send(from, { type: 'rumor-feedback', ...feedback });
        break;
      }
      case 'rumor-feedback':
        this.noteFeedback(msg.known, msg.news);
        break;
    }
    return this.flush();
  }

  // ---------------------------------------------------------------------------------------------
  // The epidemic

  /**
   * Takes in received rumors and returns the feedback: which this site already knew, which were
   * news. A rumor learned earlier in this same cycle still counts as news, to every sender of the
   * cycle: contacts within a cycle are simultaneous, as in the paper's synchronous simulation
   * (whose Table 1 this reproduces; first-come-first-served would remove more senders).
   */
  private absorb(rumors: readonly Rumor<K, V>[], cycle: number): Feedback<K> {
    if (rumors.length === 0) return NO_FEEDBACK;
    const known: K[] = [];
    const news: K[] = [];
    for (const rumor of rumors) {
      const entry = this.entries.get(rumor.id);
      if (entry === undefined) {
        this.learn(rumor, cycle);
        news.push(rumor.id);
      } else if (entry.learnedAtCycle === cycle) {
        news.push(rumor.id);
      } else {
        known.push(rumor.id);
      }
    }
    return { known, news };
  }

  private learn(rumor: Rumor<K, V>, cycle: number): void {
    if (this.entries.has(rumor.id)) return;
    const entry: MutableEntry<K, V> = { rumor, status: 'infective', counter: 0, copiesSent: 0, learnedAtCycle: cycle, contacts: 0 };
    this.entries.set(rumor.id, entry);
    this.hot.set(rumor.id, entry);
    this.learned.push(rumor.id);
  }

  /** The hot rumors to send now (except `skip`), counted as sent. */
  private spread(skip?: ReadonlySet<K>): Rumor<K, V>[] {
    const out: Rumor<K, V>[] = [];
    for (const entry of this.hot.values()) {
      if (skip?.has(entry.rumor.id)) continue;
      out.push(entry.rumor);
      entry.copiesSent++;
      entry.contacts |= SENT;
      this.counters.copiesSent++;
    }
    return out;
  }

  /** The partner's feedback, noted until the next tick settles it. */
  private noteFeedback(known: readonly K[], news: readonly K[]): void {
    if (this.config.removal !== 'feedback') return;
    // A rumor already removed has nothing left to lose: only hot ones note feedback.
    for (const id of known) {
      const entry = this.hot.get(id);
      if (entry !== undefined) entry.contacts |= HEARD_KNOWN;
    }
    for (const id of news) {
      const entry = this.hot.get(id);
      if (entry !== undefined) entry.contacts |= HEARD_NEWS;
    }
  }

  /**
   * Decides, once per cycle and rumor, whether this site loses interest, from what its contacts of
   * the cycle said. Under feedback a cycle with any necessary contact resets the counter, and a
   * cycle whose contacts all found the partner knowing is one removal event: the counter rule
   * removes a rumor after k such cycles in a row (for push, k unnecessary contacts in a row). Under
   * blind removal a cycle in which the rumor was sent is one event. Per cycle, not per contact: a
   * pulled site may answer several requests in a cycle, and the paper's synchronous simulation
   * counts them as one cycle's outcome (this reproduces its Tables 1 to 3; per-contact counting
   * removes busy sites early). The reset is the reading under which the paper's traffic bound holds
   * (an unnecessary message comes from a site that sent a necessary one within the last k cycles).
   */
  private settleContacts(): void {
    const { removal, stop, k } = this.config;
    for (const entry of this.hot.values()) {
      const contacts = entry.contacts;
      if (contacts === 0) continue;
      entry.contacts = 0;
      let isEvent: boolean;
      if (removal === 'blind') {
        isEvent = (contacts & SENT) !== 0;
      } else if ((contacts & HEARD_NEWS) !== 0) {
        entry.counter = 0;
        isEvent = false;
      } else {
        isEvent = (contacts & HEARD_KNOWN) !== 0;
      }
      if (!isEvent) continue;
      entry.counter++;
      const isRemoved = stop === 'counter' ? entry.counter >= k : this.random() < 1 / k;
      if (isRemoved) {
        assert(entry.status === 'infective', 'only an infective rumor is removed');
        entry.status = 'removed';
        // Deleting the entry being visited is safe in a Map iteration.
        this.hot.delete(entry.rumor.id);
        this.removed.push(entry.rumor.id);
      }
    }
  }

  private pickPartner(): P | undefined {
    return this.partners.pick();
  }

  private send(to: P, msg: RumorMessage<K, V>): void {
    this.sends.push({ to, msg });
    this.counters.messagesSent++;
  }

  private flush(): RumorStep<K, V, P> {
    // A non-empty buffer is handed out and replaced; an empty one stays (it was never handed out).
    const step: RumorStep<K, V, P> = {
      sends: this.sends.length > 0 ? this.sends : NONE,
      learned: this.learned.length > 0 ? this.learned : NONE,
      removed: this.removed.length > 0 ? this.removed : NONE,
    };
    if (this.sends.length > 0) this.sends = [];
    if (this.learned.length > 0) this.learned = [];
    if (this.removed.length > 0) this.removed = [];
    return step;
  }
}
