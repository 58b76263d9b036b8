/**
 * Seeded PRNG: xoshiro128** seeded through splitmix32 from an FNV-1a hash of
 * the seed (and optional labels). Only 32-bit integer ops (Math.imul, shifts)
 * are used, so integer and uniform streams are bit-identical on every
 * platform; normal draws use Math.log/sqrt/cos/sin, which V8 implements with
 * its own fdlibm port, so they are reproducible across platforms under Node.
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export type RngSeed = number | string;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  /** `labels` derive independent streams from one seed, e.g. `new Rng(seed, "blk.3.attn_q.weight")`. */
  constructor(seed: RngSeed, ...labels: ReadonlyArray<string | number>) {
    let x = fnv1a(JSON.stringify([String(seed), ...labels.map(String)]));
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal draw (Box–Muller; the second value of each pair is cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    // (k + 0.5) / 2^32 lies strictly inside (0, 1), so the log is finite.
    const u1 = (this.nextU32() + 0.5) / TWO_POW_32;
    const u2 = this.nextU32() / TWO_POW_32;
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * u2;
    this.spare = r * Math.sin(a);
    this.hasSpare = true;
    return r * Math.cos(a);
  }

  /**
   * Fill `out` with mean + std·N(0, 1) draws. Produces exactly the sequence of
   * repeated normal() calls; the generator is inlined because this is the hot
   * loop of model synthesis.
   */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.hasSpare) {
      out[i++] = mean + std * this.normal();
    }
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (; i < n; i += 2) {
      let r = Math.imul(s1, 5);
      let a = (Math.imul((r << 7) | (r >>> 25), 9) >>> 0) + 0.5;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      r = Math.imul(s1, 5);
      const b = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const rad = Math.sqrt(-2 * Math.log(a / TWO_POW_32));
      a = 2 * Math.PI * (b / TWO_POW_32);
      out[i] = mean + std * (rad * Math.cos(a));
      if (i + 1 < n) {
        out[i + 1] = mean + std * (rad * Math.sin(a));
      } else {
        this.spare = rad * Math.sin(a);
        this.hasSpare = true;
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
