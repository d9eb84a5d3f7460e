/**
 * The context handed to one incarnation of an actor. Every method that acts for the actor first
 * checks that the incarnation is still current: the continuation of an old async handler that
 * outlived a restart, a stop or the death of its node throws `STALE_CONTEXT` instead of acting
 * (its promise then settles into nothing, since its incarnation is gone).
 */
import type {
  ActorContext,
  ActorDef,
  AskOptions,
  ReachabilityReport,
  ReplyOf,
  Settled,
  SpawnOptions,
  Timers,
} from './actor.ts';
import type { Cell } from './cell.ts';
import type { Disk } from './disk.ts';
import { InvalidArgumentError, StaleContextError } from './errors.ts';
import { type ActorRef, type AnyRef, refToString } from './ref.ts';
import type { ActorSystem } from './system.ts';

export class Context<M> implements ActorContext<M> {
  readonly timers: Timers<M>;

  constructor(
    private readonly cell: Cell,
    private readonly inc: number,
    private readonly sys: ActorSystem,
  ) {
    this.timers = {
      once: (key, afterMs, msg) => {
        this.assertCurrent();
        sys.startTimer(cell, key, afterMs, 0, msg, false);
      },
      repeat: (key, intervalMs, msg) => {
        this.assertCurrent();
        sys.startTimer(cell, key, intervalMs, intervalMs, msg, true);
      },
      cancel: (key) => {
        this.assertCurrent();
        sys.cancelTimer(cell, key);
      },
      isActive: (key) => this.isCurrent() && (cell.timers?.has(key) ?? false),
    };
  }

  private isCurrent(): boolean {
    return this.cell.incarnation === this.inc;
  }

  private assertCurrent(): void {
    if (this.cell.incarnation !== this.inc) throw new StaleContextError(refToString(this.cell.ref));
  }

  get self(): ActorRef<M> {
    return this.cell.ref as ActorRef<M>;
  }

  get parent(): AnyRef {
    return (this.cell.parent ?? this.cell).ref;
  }

  get nodeName(): string {
    return this.sys.name;
  }

  get nodeUid(): string {
    return this.sys.uid;
  }

  get disk(): Disk {
    this.assertCurrent();
    return this.sys.disk;
  }

  now(): number {
    return this.sys.now();
  }

  random(): number {
    // A stale draw would shift the node's seeded stream for everyone else.
    this.assertCurrent();
    return this.sys.random.next();
  }

  tell<T>(ref: ActorRef<T>, msg: T): void {
    this.assertCurrent();
    this.sys.tell(ref, msg, undefined, this.cell);
  }

  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res> {
    if (!this.isCurrent()) return Promise.reject(new StaleContextError(refToString(this.cell.ref)));
    return this.sys.ask(ref, make, options);
  }

  pipeToSelf<T>(promise: Promise<T>, adapt: (result: Settled<T>) => M): void {
    this.assertCurrent();
    const deliver = (r: Settled<T>): void => {
      this.sys.noteAsync();
      // The piped result belongs to this incarnation; a restarted actor never sees it.
      if (!this.isCurrent()) return;
      let msg: M;
      try {
        msg = adapt(r);
      } catch (err) {
        this.sys.reportHookError(this.cell, err);
        return;
      }
      this.sys.tell(this.cell.ref, msg, undefined, this.cell);
    };
    promise.then(
      (value) => deliver({ ok: true, value }),
      (error: unknown) => deliver({ ok: false, error }),
    );
  }

  delay(ms: number): Promise<void> {
    if (!this.isCurrent()) return Promise.reject(new StaleContextError(refToString(this.cell.ref)));
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      return Promise.reject(new InvalidArgumentError('INVALID_CONFIG', `delay must be a finite number of ms >= 0, got ${String(ms)}`));
    }
    return this.sys.delay(ms);
  }

  external<T>(work: () => Promise<T>): Promise<T> {
    if (!this.isCurrent()) return Promise.reject(new StaleContextError(refToString(this.cell.ref)));
    return this.sys.external(work);
  }

  spawn<CM, CS, CP>(def: ActorDef<CM, CS, CP>, props: CP, options?: SpawnOptions): ActorRef<CM> {
    this.assertCurrent();
    return this.sys.spawnChild(this.cell, def, props, options) as ActorRef<CM>;
  }

  stop(ref: AnyRef): void {
    this.assertCurrent();
    this.sys.stopFromContext(this.cell, ref);
  }

  watch(ref: AnyRef | object): void {
    this.assertCurrent();
    this.sys.watch(this.cell, ref as AnyRef);
  }

  unwatch(ref: AnyRef): void {
    this.assertCurrent();
    this.sys.unwatch(this.cell, ref);
  }

  children(): AnyRef[] {
    return [...this.cell.children.values()].filter((c) => c.isAlive).map((c) => c.ref);
  }

  child(name: string): AnyRef | undefined {
    const c = this.cell.children.get(name);
    return c && c.isAlive ? c.ref : undefined;
  }

  publish(topic: string, data: unknown): void {
    this.assertCurrent();
    this.sys.publishCustom(topic, data);
  }

  reportReachability(report: ReachabilityReport): void {
    this.assertCurrent();
    this.sys.reportReachability(report, this.cell);
  }
}
