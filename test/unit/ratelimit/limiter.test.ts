import { describe, expect, it } from "vitest";
import { perMinutePolicy, perSecondPolicy } from "../../../core/ratelimit/gcra";
import { createRateLimiter, LEASE_MICROS, leaseSize, RateLimitExceeded } from "../../../core/ratelimit/limiter";
import type { BucketRef, RateLimitStore, WriteResult } from "../../../core/ratelimit/ports";
import { DomainError } from "../../../core/errors";

/**
 * An in-memory store with the adapter's exact conditions (core/db/rate-limit.repository.ts), each
 * write answering after a turn of the event loop, so concurrent admits interleave as they would
 * against DynamoDB. The real store is exercised in test/integration/rate-limits.test.ts.
 */
function memoryStore() {
  const tats = new Map<string, number>();
  const key = (ref: BucketRef) => `${ref.orgId}/${ref.bucket}`;
  let writes = 0;
  const settle = <T>(value: T) => new Promise<T>((resolve) => setImmediate(() => resolve(value)));
  const store: RateLimitStore = {
    async restart(ref, { now, next }) {
      writes++;
      const tat = tats.get(key(ref));
      if (tat !== undefined && tat > now) return settle<WriteResult>({ ok: false, tat });
      tats.set(key(ref), next);
      return settle<WriteResult>({ ok: true, tat: next });
    },
    async advance(ref, { now, increment, atMost }) {
      writes++;
      const tat = tats.get(key(ref));
      if (tat === undefined || tat <= now || tat > atMost) return settle<WriteResult>({ ok: false, tat });
      tats.set(key(ref), tat + increment);
      return settle<WriteResult>({ ok: true, tat: tat + increment });
    },
    async rebase(ref, { from, to }) {
      writes++;
      const tat = tats.get(key(ref));
      if (tat !== from) return settle<WriteResult>({ ok: false, tat });
      tats.set(key(ref), to);
      return settle<WriteResult>({ ok: true, tat: to });
    },
  };
  return { store, tats, writes: () => writes };
}

function fakeClock(start = Date.UTC(2026, 5, 1)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const org = (burst: number, rate = 10) => perSecondPolicy("organization", rate, burst);
const ref = (bucket: string, orgId = "o1"): BucketRef => ({ orgId, bucket });

async function outcome(promise: Promise<unknown>): Promise<"ok" | number | string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof RateLimitExceeded) return 429;
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe("rate limiter", () => {
  it("admits exactly the burst of concurrent requests, across several processes sharing the store", async () => {
    const { store } = memoryStore();
    const clock = fakeClock();
    // Four warm instances, each with its own deny cache, one bucket.
    const limiters = Array.from({ length: 4 }, () => createRateLimiter({ store, clock }));
    const check = [{ ref: ref("org"), policy: org(10, 0.001) }];

    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => outcome(limiters[i % 4]!.admit(check))));

    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    expect(results.filter((r) => r === 429)).toHaveLength(50);
  });

  it("refuses from its deny cache without writing while the bucket is known to be empty, and writes again once it may have room", async () => {
    const { store, writes } = memoryStore();
    const clock = fakeClock();
    const limiter = createRateLimiter({ store, clock });
    const check = [{ ref: ref("org"), policy: org(5) }]; // 10 a second: one every 100 ms
    for (let i = 0; i < 5; i++) await limiter.admit(check);
    expect(await outcome(limiter.admit(check))).toBe(429); // learns the bucket is empty
    const before = writes();

    const flood = await Promise.all(Array.from({ length: 1_000 }, () => outcome(limiter.admit(check))));
    clock.advance(99);
    const stillEarly = await outcome(limiter.admit(check));
    const writesDuringFlood = writes() - before;
    clock.advance(1);
    const onTime = await outcome(limiter.admit(check));

    expect(flood.every((r) => r === 429)).toBe(true);
    expect(stillEarly).toBe(429);
    expect(writesDuringFlood).toBe(0);
    expect(onTime).toBe("ok");
  });

  it("never refuses locally what the store would admit: its cache is a lower bound of the stored TAT", async () => {
    const { store } = memoryStore();
    const clock = fakeClock();
    const a = createRateLimiter({ store, clock });
    const b = createRateLimiter({ store, clock });
    const check = [{ ref: ref("org"), policy: org(3) }];
    // a fills the bucket and learns it is empty; b spends nothing.
    for (let i = 0; i < 3; i++) await a.admit(check);
    expect(await outcome(a.admit(check))).toBe(429);

    clock.advance(100); // one unit back

    // Whichever instance asks first gets it: a's cache does not hold it back.
    expect(await outcome(a.admit(check))).toBe("ok");
    expect(await outcome(b.admit(check))).toBe(429);
  });

  it("takes a key's bucket before its organization's, so a key over its own limit spends nothing of the organization's", async () => {
    const { store, tats } = memoryStore();
    const limiter = createRateLimiter({ store, clock: fakeClock() });
    const key = { ref: ref("key#k1"), policy: perSecondPolicy("api-key", 0.001, 2) };
    const organization = { ref: ref("org"), policy: org(100, 0.001) };

    const results = await Promise.all(Array.from({ length: 10 }, () => outcome(limiter.admit([key, organization]))));
    const orgTat = tats.get("o1/org")!;
    const start = Date.UTC(2026, 5, 1) * 1000;

    expect(results.filter((r) => r === "ok")).toHaveLength(2);
    // The organization's bucket holds exactly the two admitted requests (1,000 s each).
    expect(orgTat - start).toBe(2 * 1_000_000_000);
  });

  it("reports every bucket's state, and the refused one with what is left; a refusal known in advance spends no other bucket", async () => {
    const { store } = memoryStore();
    const limiter = createRateLimiter({ store, clock: fakeClock() });
    const requests = { ref: ref("chat-rpm"), policy: perMinutePolicy("chat-requests", 10, "requests") };
    const tokens = { ref: ref("chat-tpm"), policy: perMinutePolicy("chat-tokens", 1_000, "tokens") };

    const admitted = await limiter.admit([requests, { ...tokens, cost: 600 }]);
    const refusal = await limiter.admit([requests, { ...tokens, cost: 600 }]).catch((e: RateLimitExceeded) => e);
    const small = await limiter.admit([requests, { ...tokens, cost: 100 }]);

    expect(admitted.map((s) => [s.policy.name, s.remaining])).toEqual([
      ["chat-requests", 9],
      ["chat-tokens", 400],
    ]);
    expect(refusal).toBeInstanceOf(RateLimitExceeded);
    const error = refusal as RateLimitExceeded;
    // This process knew the token bucket's TAT: refused before writing, the request bucket untouched.
    expect(error.states.map((s) => [s.policy.name, s.remaining])).toEqual([["chat-tokens", 400]]);
    expect(small.map((s) => [s.policy.name, s.remaining])).toEqual([
      ["chat-requests", 8],
      ["chat-tokens", 300],
    ]);
    // 200 tokens short at 1,000 a minute: 12 s.
    expect(error.details).toMatchObject({ policy: "chat-tokens", retryAfterSeconds: 12, "violated-policies": ["chat-tokens"] });
    expect(error.kind).toBe("rate_limited");
  });

  it("answers 400 for a request larger than the bucket, before anything is written", async () => {
    const { store, writes } = memoryStore();
    const limiter = createRateLimiter({ store, clock: fakeClock() });

    const result = await outcome(limiter.admit([{ ref: ref("chat-tpm"), policy: perMinutePolicy("chat-tokens", 1_000, "tokens"), cost: 1_500 }]));

    expect(result).toBe("exceeds_rate_limit");
    expect(writes()).toBe(0);
  });

  it("gives up after a bounded number of writes when the bucket keeps changing under it, refusing rather than guessing", async () => {
    // A fault the real store cannot be made to produce on demand: every write loses a race.
    let writes = 0;
    let tat = 0;
    const clock = fakeClock();
    const now = Date.UTC(2026, 5, 1) * 1000;
    const racing: RateLimitStore = {
      async restart() {
        writes++;
        tat = now + 1; // someone else just took a unit: busy
        return { ok: false, tat };
      },
      async advance() {
        writes++;
        tat = now - 1; // and it drained again: idle
        return { ok: false, tat };
      },
      async rebase() {
        throw new Error("not reached");
      },
    };
    const limiter = createRateLimiter({ store: racing, clock, maxAttempts: 4 });

    const result = await outcome(limiter.admit([{ ref: ref("org"), policy: org(10) }]));

    expect(result).toBe(429);
    expect(writes).toBe(4);
  });

  it("applies a changed limit at the next request: a bucket deep in debt under a near-zero rate refills at the new rate", async () => {
    const { store, writes } = memoryStore();
    const clock = fakeClock();
    const limiter = createRateLimiter({ store, clock });
    const bucketRef = ref("org");
    const tiny = { ref: bucketRef, policy: perSecondPolicy("organization", 0.001, 3) }; // 1,000 s a request
    for (let i = 0; i < 3; i++) await limiter.admit([tiny]);
    expect(await outcome(limiter.admit([tiny]))).toBe(429); // 3,000 s of debt, known to this process
    const lifted = { ref: bucketRef, policy: perSecondPolicy("organization", 10, 5) }; // the operator lifts it
    const before = writes();

    const first = await limiter.admit([lifted]).catch((e: RateLimitExceeded) => e);
    const cutDown = writes() - before;
    clock.advance(100);
    const second = await outcome(limiter.admit([lifted]));

    // Cut to an empty bucket at the new limit (one write, no unit granted), then refilled at 10 a second.
    expect(first).toBeInstanceOf(RateLimitExceeded);
    expect((first as RateLimitExceeded).details.retryAfterSeconds).toBe(1);
    expect(cutDown).toBe(1);
    expect(second).toBe("ok");
  });

  it("keeps its cache bounded", async () => {
    const { store, writes } = memoryStore();
    const limiter = createRateLimiter({ store, clock: fakeClock(), cacheSize: 2 });
    const policy = perSecondPolicy("api-key", 0.001, 1);
    for (const k of ["a", "b", "c"]) await limiter.admit([{ ref: ref(k), policy }]);
    const before = writes();

    // "a" was evicted: refusing it again takes a write; "c" is still known and refused locally.
    await outcome(limiter.admit([{ ref: ref("a"), policy }]));
    await outcome(limiter.admit([{ ref: ref("c"), policy }]));

    expect(writes() - before).toBe(1);
  });
});

describe("leases: a busy process takes several units per write", () => {
  it("serves a fast bucket's sequential requests with a write per lease, not per request", async () => {
    const { store, writes } = memoryStore();
    const clock = fakeClock();
    const limiter = createRateLimiter({ store, clock });
    const policy = org(10_000, 500); // lease: 500/s x 100 ms = 50 units
    expect(leaseSize(policy)).toBe(50);

    for (let i = 0; i < 100; i++) {
      await limiter.admit([{ ref: ref("org"), policy }]);
      clock.advance(1);
    }

    expect(writes()).toBe(2);
  });

  it("never admits more than the bucket holds, across processes that each lease", async () => {
    const { store } = memoryStore();
    const clock = fakeClock();
    const policy = org(40, 200); // lease: min(50, 40/10, 200 x 0.1) = 4 units
    const limiters = Array.from({ length: 4 }, () => createRateLimiter({ store, clock }));

    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => outcome(limiters[i % 4]!.admit([{ ref: ref("org"), policy }]))));
    const admitted = results.filter((r) => r === "ok").length;

    expect(leaseSize(policy)).toBe(4);
    expect(admitted).toBeLessThanOrEqual(40);
    // At most each process's last lease can go unused (3 units each): the price of leasing.
    expect(admitted).toBeGreaterThanOrEqual(40 - 4 * 3);
  });

  it("forfeits unused units when the lease ends, and writes again", async () => {
    const { store, writes } = memoryStore();
    const clock = fakeClock();
    const limiter = createRateLimiter({ store, clock });
    const policy = org(10_000, 500);
    await limiter.admit([{ ref: ref("org"), policy }]);
    const afterLease = writes();

    await limiter.admit([{ ref: ref("org"), policy }]);
    const withinLease = writes() - afterLease;
    clock.advance(LEASE_MICROS / 1000 + 1);
    await limiter.admit([{ ref: ref("org"), policy }]);

    expect(withinLease).toBe(0);
    expect(writes() - afterLease).toBe(1);
  });

  it("falls back to a single unit when the bucket has less room than a lease, so what fits still passes", async () => {
    const { store, tats } = memoryStore();
    const clock = fakeClock();
    const policy = org(200, 500); // lease of 20 units; 2 ms a unit
    const now = clock.now().getTime() * 1000;
    tats.set("o1/org", now + (200 - 5) * 2_000); // room for 5 units, which this process does not know
    const limiter = createRateLimiter({ store, clock });

    const results = await Promise.all(Array.from({ length: 25 }, () => outcome(limiter.admit([{ ref: ref("org"), policy }]))));
    const admitted = results.filter((r) => r === "ok").length;

    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(5);
  });

  it("does not lease slow buckets: each request stays its own exact write", () => {
    expect(leaseSize(org(100, 10))).toBe(1);
    expect(leaseSize(perSecondPolicy("api-key", 10, 100))).toBe(1);
    expect(leaseSize(perMinutePolicy("chat-requests", 100, "requests"))).toBe(1);
  });
});
