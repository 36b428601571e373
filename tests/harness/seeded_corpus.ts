/**
 * Deterministic random corpora for tests and benchmarks: a seeded generator and skill lists drawn
 * from a Zipf distribution (a few skills common, most rare), as a marketplace's are.
 *
 * @module
 */

/**
 * A deterministic generator of numbers in [0, 1) (mulberry32).
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random(); // the same first number on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6D2B79F5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A picker of sorted, distinct skill lists of `min` to `max` entries from `vocabulary`, the i-th
 * skill weighted 1 / (i + 1) ** exponent.
 *
 * @example
 * ```ts
 * const skills = zipfSkills(seededRandom(1), ["go", "sql", "zig"], 1.1);
 * skills(1, 2); // e.g. ["go"] or ["go", "sql"]
 * ```
 */
export function zipfSkills(
  random: () => number,
  vocabulary: readonly string[],
  exponent: number,
): (min: number, max: number) => string[] {
  const weights = vocabulary.map((_, i) => 1 / (i + 1) ** exponent);
  const total = weights.reduce((a, b) => a + b, 0);
  const one = () => {
    let r = random() * total;
    for (let i = 0; i < vocabulary.length; i++) if ((r -= weights[i]) <= 0) return vocabulary[i];
    return vocabulary[vocabulary.length - 1];
  };
  return (min, max) => {
    const n = min + Math.floor(random() * (max - min + 1));
    const set = new Set<string>();
    while (set.size < n) set.add(one());
    return [...set].sort();
  };
}
