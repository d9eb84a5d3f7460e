/**
 * Partner choice for the epidemics: a peer other than the site itself, uniformly at random (the
 * paper's uniform spatial distribution), from a peer list that may change as membership does.
 */

/**
 * A peer other than the one at `selfIndex` (-1: none of them is self), uniformly at random with
 * one draw; undefined when there is none.
 */
export function randomPeer<P>(peers: readonly P[], selfIndex: number, random: () => number): P | undefined {
  const n = peers.length - (selfIndex >= 0 ? 1 : 0);
  if (n <= 0) return undefined;
  let i = Math.floor(random() * n);
  if (selfIndex >= 0 && i >= selfIndex) i++;
  return peers[i];
}

/** The peers one site draws its partners from. */
export class Partners<P> {
  private peers: readonly P[];
  private selfIndex: number;

  constructor(
    private readonly self: P,
    peers: readonly P[],
    private readonly random: () => number,
  ) {
    this.peers = peers;
    this.selfIndex = peers.indexOf(self);
  }

  /** The peers (a copy). */
  list(): P[] {
    return [...this.peers];
  }

  /** Replaces the peers (self may be among them; it is never chosen). Takes effect at the next choice. */
  set(peers: readonly P[]): void {
    this.peers = peers;
    this.selfIndex = peers.indexOf(this.self);
  }

  /** One partner, uniformly at random; undefined when there is no other site. */
  pick(): P | undefined {
    return randomPeer(this.peers, this.selfIndex, this.random);
  }
}
