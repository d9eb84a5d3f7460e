/**
 * The epidemic simulator's plugin: on every node a thin actor shell, `/user/epidemic`, that feeds
 * one pure site ({@link RumorSite} or {@link AntiEntropySite}) and carries out what it asks.
 *
 * - Cycles: a repeating timer of `cycleMs` from the node's start, so every node ticks at the same
 *   instants (all nodes start together at time 0) and the cycle number is floor(now / cycleMs).
 *   With the default zero-latency network a message arrives within the cycle it was sent in, as
 *   the paper's synchronous cycles assume.
 * - Messages: each send becomes a `tell` to the partner's shell, wrapped with the sender's name.
 * - Observation: the shell publishes `gossip.epidemic` events when its site learns an update or
 *   stops spreading one; the host asks each shell for its message counters at the end.
 *
 * This module only defines things: nodes import it when they start, so the script that starts the
 * cluster (sim/epidemic.ts) must be another module.
 */
import { type ActorContext, type ActorRef, type CustomEvent, defineActor, definePlugin, selectActor } from '@starling/actors';
import { type AntiEntropyMessage, AntiEntropySite, resolveAntiEntropyConfig } from '../anti-entropy.ts';
import { DEFAULT_RUMOR_CONFIG, type RemovalTrigger, resolveRumorConfig, type RumorMessage, RumorSite, type SpreadMode, type StopRule } from '../rumor.ts';

/** The protocols the simulator runs. */
export type EpidemicProtocol = 'rumor' | 'anti-entropy';

/** The plugin's options: the protocol's variation and the cycle length. Plain data (it is in the cluster config). */
export interface EpidemicSiteOptions {
  readonly protocol: EpidemicProtocol;
  readonly mode: SpreadMode;
  /** Rumor mongering only. */
  readonly removal: RemovalTrigger;
  /** Rumor mongering only. */
  readonly stop: StopRule;
  /** Rumor mongering only. */
  readonly k: number;
  /** Length of a cycle in virtual ms. Default 1000; any length works while latency stays below it. */
  readonly cycleMs: number;
}

/** Where each node's shell lives. */
export const EPIDEMIC_SITE_PATH = '/user/epidemic';

/** The `custom` event topic of the shells' observations. */
export const EPIDEMIC_TOPIC = 'gossip.epidemic';

/** What a shell publishes: its site learned an update, or stopped spreading one. */
export interface EpidemicObservation {
  readonly kind: 'learned' | 'removed';
  readonly id: string;
  readonly cycle: number;
}

/** Narrows a runtime event to a shell's observation, or undefined. */
export function asEpidemicObservation(e: CustomEvent): EpidemicObservation | undefined {
  return e.topic === EPIDEMIC_TOPIC ? (e.data as EpidemicObservation) : undefined;
}

/** A shell's counters, as it reports them to the host. */
export interface SiteReport {
  readonly messagesSent: number;
  readonly copiesSent: number;
}

/** A protocol message between shells, of either protocol. */
export type EpidemicBody = RumorMessage<string, string> | AntiEntropyMessage<string, string>;
type Body = EpidemicBody;

/** What a shell accepts. */
export type EpidemicSiteMsg =
  | { readonly type: 'tick' }
  /** A local update at this site (the driver's injection). */
  | { readonly type: 'inject'; readonly id: string; readonly value: string }
  /** A protocol message from the shell on node `from`. */
  | { readonly type: 'gossip'; readonly from: string; readonly body: Body }
  | { readonly type: 'report'; readonly replyTo: ActorRef<SiteReport> };

/** The shell's props. */
export interface EpidemicSiteProps {
  readonly self: string;
  /** Every node of the cluster (the same array on every node of one process: not copied per node). */
  readonly peers: readonly string[];
  readonly options: EpidemicSiteOptions;
}

type Site = { readonly kind: 'rumor'; readonly site: RumorSite<string, string, string> } | { readonly kind: 'anti-entropy'; readonly site: AntiEntropySite<string, string, string> };

interface ShellState {
  readonly site: Site;
  readonly cycleMs: number;
  /** Refs of the peers this shell has talked to, built once each. */
  readonly refs: Map<string, ActorRef<EpidemicSiteMsg>>;
}

/** A protocol step, whichever the protocol. */
interface Step {
  readonly sends: readonly { readonly to: string; readonly msg: Body }[];
  readonly learned: readonly string[];
  readonly removed?: readonly string[];
}

const CYCLE_TIMER = 'cycle';
const TICK: EpidemicSiteMsg = { type: 'tick' };

/** True for rumor mongering's messages, false for anti-entropy's. */
export function isRumorMessage(body: Body): body is RumorMessage<string, string> {
  return body.type.startsWith('rumor-');
}

/** Validates the plugin's options and fills defaults; throws `RangeError` naming the bad field. */
export function resolveEpidemicSiteOptions(raw: unknown): EpidemicSiteOptions {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<EpidemicSiteOptions>;
  const protocol = o.protocol ?? 'rumor';
  if (protocol !== 'rumor' && protocol !== 'anti-entropy') throw new RangeError(`protocol must be rumor or anti-entropy, got ${String(protocol)}`);
  const d = DEFAULT_RUMOR_CONFIG;
  const rumor = resolveRumorConfig({ mode: o.mode ?? d.mode, removal: o.removal ?? d.removal, stop: o.stop ?? d.stop, k: o.k ?? d.k });
  const cycleMs = o.cycleMs ?? 1000;
  if (!(typeof cycleMs === 'number' && cycleMs > 0 && Number.isFinite(cycleMs))) throw new RangeError(`cycleMs must be a number > 0, got ${String(cycleMs)}`);
  return { protocol, mode: rumor.mode, removal: rumor.removal, stop: rumor.stop, k: rumor.k, cycleMs };
}

function newSite(props: EpidemicSiteProps, ctx: ActorContext<EpidemicSiteMsg>): Site {
  const random = (): number => ctx.random();
  const { options } = props;
  if (options.protocol === 'anti-entropy') {
    return { kind: 'anti-entropy', site: new AntiEntropySite({ self: props.self, peers: props.peers, config: resolveAntiEntropyConfig({ mode: options.mode }), random }) };
  }
  const config = { mode: options.mode, removal: options.removal, stop: options.stop, k: options.k };
  return { kind: 'rumor', site: new RumorSite({ self: props.self, peers: props.peers, config, random }) };
}

/** Carries out a step: the sends as tells to the peers' shells, the transitions as events. */
function carryOut(state: ShellState, step: Step, cycle: number, ctx: ActorContext<EpidemicSiteMsg>): void {
  for (const { to, msg } of step.sends) {
    let ref = state.refs.get(to);
    if (ref === undefined) {
      ref = selectActor<EpidemicSiteMsg>(to, EPIDEMIC_SITE_PATH);
      state.refs.set(to, ref);
    }
    ctx.tell(ref, { type: 'gossip', from: ctx.nodeName, body: msg });
  }
  for (const id of step.learned) ctx.publish(EPIDEMIC_TOPIC, { kind: 'learned', id, cycle } satisfies EpidemicObservation);
  for (const id of step.removed ?? []) ctx.publish(EPIDEMIC_TOPIC, { kind: 'removed', id, cycle } satisfies EpidemicObservation);
}

/** The shell: one per node, at {@link EPIDEMIC_SITE_PATH}. */
export const epidemicSite = defineActor<EpidemicSiteMsg, ShellState, EpidemicSiteProps>({
  name: 'gossip-epidemic-site',
  init: (props, ctx) => ({ site: newSite(props, ctx), cycleMs: props.options.cycleMs, refs: new Map() }),
  onStart(state, ctx) {
    // Started with its node at time 0, so every node's cycle boundaries fall at the same instants.
    ctx.timers.repeat(CYCLE_TIMER, state.cycleMs, TICK);
    return state;
  },
  receive(state, msg, ctx) {
    const cycle = Math.floor(ctx.now() / state.cycleMs);
    const { site } = state;
    switch (msg.type) {
      case 'tick':
        carryOut(state, site.site.tick(cycle), cycle, ctx);
        break;
      case 'inject':
        carryOut(state, site.site.update(msg.id, msg.value, cycle), cycle, ctx);
        break;
      case 'gossip':
        if (site.kind === 'rumor') {
          if (!isRumorMessage(msg.body)) throw new TypeError(`a rumor site got ${msg.body.type} from ${msg.from}`);
          carryOut(state, site.site.receive(msg.from, msg.body, cycle), cycle, ctx);
        } else {
          if (isRumorMessage(msg.body)) throw new TypeError(`an anti-entropy site got ${msg.body.type} from ${msg.from}`);
          carryOut(state, site.site.receive(msg.from, msg.body, cycle), cycle, ctx);
        }
        break;
      case 'report':
        ctx.tell(msg.replyTo, { messagesSent: site.site.counters.messagesSent, copiesSent: site.site.counters.copiesSent });
        break;
    }
    return state;
  },
});

/** The simulator's plugin: spawns the shell on every node. */
export const epidemicPlugin = definePlugin<EpidemicSiteOptions>({
  name: 'gossip-epidemic',
  module: import.meta.url,
  actors: [epidemicSite],
  options: resolveEpidemicSiteOptions,
  setup(ctx) {
    const props: EpidemicSiteProps = { self: ctx.nodeName, peers: ctx.clusterNodes, options: ctx.options };
    ctx.spawn('user', epidemicSite, props, { name: 'epidemic' });
  },
});
