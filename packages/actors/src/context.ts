/**
 * The context handed to one incarnation of an actor. Every method first checks that the
 * incarnation is still current: a continuation of an async handler that outlived a restart or a
 * stop can no longer act for the actor.
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
import { AskFailedError, StarlingError } from './errors.ts';
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
      once: (key, afterMs, msg) => this.current() && sys.startTimer(cell, key, afterMs, 0, msg),
      repeat: (key, intervalMs, msg) => this.current() && sys.startTimer(cell, key, intervalMs, intervalMs, msg),
      cancel: (key) => this.current() && sys.cancelTimer(cell, key),
      isActive: (key) => this.current() && (cell.timers?.has(key) ?? false),
    };
  }

  private current(): boolean {
    return this.cell.incarnation === this.inc;
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
    return this.sys.disk;
  }

  now(): number {
    return this.sys.now();
  }

  random(): number {
    return this.sys.random.next();
  }

  tell<T>(ref: ActorRef<T>, msg: T): void {
    if (this.cell.incarnation !== this.inc) {
      this.sys.deadLetter('stale', ref, msg, undefined);
      return;
    }
    this.sys.tell(ref, msg, undefined);
  }

  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res> {
    if (!this.current()) return Promise.reject(new AskFailedError(refToString(ref), 'stale'));
    return this.sys.ask(ref, make, options);
  }

  pipeToSelf<T>(promise: Promise<T>, adapt: (result: Settled<T>) => M): void {
    const self = this.cell.ref;
    const deliver = (r: Settled<T>): void => {
      this.sys.noteAsync();
      let msg: M;
      try {
        msg = adapt(r);
      } catch (err) {
        this.sys.reportHookError(this.cell, err);
        return;
      }
      this.sys.tell(self, msg, undefined);
    };
    promise.then(
      (value) => deliver({ ok: true, value }),
      (error: unknown) => deliver({ ok: false, error }),
    );
  }

  delay(ms: number): Promise<void> {
    return this.sys.delay(ms);
  }

  spawn<CM, CS, CP>(def: ActorDef<CM, CS, CP>, props: CP, options?: SpawnOptions): ActorRef<CM> {
    if (!this.current()) throw new StarlingError('NOT_A_CHILD', `${refToString(this.cell.ref)} is no longer running`);
    return this.sys.spawnChild(this.cell, def, props, options) as ActorRef<CM>;
  }

  stop(ref: AnyRef): void {
    if (!this.current()) return;
    this.sys.stopFromContext(this.cell, ref);
  }

  watch(ref: AnyRef | object): void {
    if (!this.current()) return;
    this.sys.watch(this.cell, ref as AnyRef);
  }

  unwatch(ref: AnyRef): void {
    if (!this.current()) return;
    this.sys.unwatch(this.cell, ref);
  }

  children(): AnyRef[] {
    return [...this.cell.children.values()].filter((c) => c.isAlive).map((c) => c.ref);
  }

  child(name: string): AnyRef | undefined {
    const c = this.cell.children.get(name);
    return c && c.isAlive ? c.ref : undefined;
  }

  reportReachability(report: ReachabilityReport): void {
    if (!this.current()) return;
    this.sys.reportReachability(report);
  }
}
