/**
 * Auto-tuning, HXO's side (seed 000 flow 4): spotting hot shards.
 *
 * A stage is hot when the p95 of its shard latencies — finished shards, and
 * running ones counted at their elapsed time so far (a lower bound) — is
 * above the policy's `p95_ms` (HXO_AUTOSPLIT_P95_MS). Its hot shards are the
 * running ones past that threshold; each is considered once, and signalled
 * (`hxo.autotune.signal`) with probability `sample_rate`
 * (HXO_AUTOTUNE_SAMPLE_RATE). Whoever listens decides (the autonomy actor
 * answers `genesis.heal` `split_shard`); the engine applies the heal.
 *
 * The policy can be changed while the node runs, for all plans or one, by a
 * `genesis.intent` `autotune` (`AutotunePolicies.apply`).
 */
import { z } from 'zod';
import type { Config } from '../../kernel/config.ts';
import type { PlanRun } from '../run/plan-run.ts';

export interface AutotunePolicy {
  enabled: boolean;
  p95_ms: number;
  split_factor: number;
  sample_rate: number;
}

export interface AutotuneSignal {
  plan_id: string;
  stage_id: string;
  signal_type: 'hotspot';
  /** The stage's p95 latency (ms), running shards included. */
  metric_value: number;
  suggested_action: 'split_shard' | 'increase_concurrency';
  shard_index: number;
  sub_shard?: number;
  cas_id: string;
  elapsed_ms: number;
  split_factor: number;
  timestamp: string;
}

/** What a `genesis.intent` `autotune` may change. */
export const autotuneIntent = z.strictObject({
  source: z.string().optional(),
  intent: z.literal('autotune'),
  plan_id: z.string().min(1).optional(),
  parameters: z.strictObject({
    enabled: z.boolean().optional(),
    p95_ms: z.number().int().min(1).optional(),
    split_factor: z.number().int().min(2).max(64).optional(),
    sample_rate: z.number().min(0).max(1).optional(),
  }),
});

export type AutotuneIntent = z.infer<typeof autotuneIntent>;

/** The node's policy and per-plan overrides. */
export class AutotunePolicies {
  private base: AutotunePolicy;
  private readonly perPlan = new Map<string, Partial<AutotunePolicy>>();

  constructor(config: Pick<Config, 'HXO_AUTOSPLIT_P95_MS' | 'HXO_AUTOSPLIT_FACTOR' | 'HXO_AUTOTUNE_SAMPLE_RATE'>) {
    this.base = { enabled: true, p95_ms: config.HXO_AUTOSPLIT_P95_MS, split_factor: config.HXO_AUTOSPLIT_FACTOR, sample_rate: config.HXO_AUTOTUNE_SAMPLE_RATE };
  }

  for(planId: string): AutotunePolicy {
    return { ...this.base, ...this.perPlan.get(planId) };
  }

  /** Applies an intent; returns the policy it changed (the node's, or one plan's). */
  apply(intent: AutotuneIntent): AutotunePolicy {
    const changes = Object.fromEntries(Object.entries(intent.parameters).filter(([, v]) => v !== undefined)) as Partial<AutotunePolicy>;
    if (!intent.plan_id) {
      this.base = { ...this.base, ...changes };
      return this.base;
    }
    this.perPlan.set(intent.plan_id, { ...this.perPlan.get(intent.plan_id), ...changes });
    return this.for(intent.plan_id);
  }

  forget(planId: string): void {
    this.perPlan.delete(planId);
  }
}

/** Watches one plan run for hot shards. */
export class HotspotWatch {
  /** Shards already considered (`stage:shard:sub`): each is signalled at most once. */
  private readonly considered = new Set<string>();

  constructor(
    private readonly run: PlanRun,
    private readonly random: () => number = Math.random,
  ) {}

  /** Signals for the hot shards found now. */
  check(policy: AutotunePolicy, now = Date.now()): AutotuneSignal[] {
    if (!policy.enabled || this.run.state !== 'running') return [];
    const running = this.run.runningShards(now);
    const signals: AutotuneSignal[] = [];
    for (const [stage, shards] of groupBy(running, (r) => r.stage)) {
      const progress = this.run.stages[stage];
      const resolved = this.run.plan.stages[stage];
      if (!progress || !resolved) continue;
      const p95 = progress.latency.quantileWith(0.95, shards.map((r) => r.elapsedMs));
      if (p95 <= policy.p95_ms) continue;
      const hot = shards.filter((r) => r.elapsedMs > policy.p95_ms).sort((a, b) => b.elapsedMs - a.elapsedMs);
      for (const r of hot) {
        const key = `${stage}:${r.shard}:${r.sub ?? ''}`;
        if (this.considered.has(key)) continue;
        this.considered.add(key);
        if (this.random() >= policy.sample_rate) continue;
        // One level of splitting: a sub-shard is not split again.
        const splittable = resolved.splittable && r.sub === undefined;
        signals.push({
          plan_id: this.run.planId,
          stage_id: resolved.id,
          signal_type: 'hotspot',
          metric_value: Math.round(p95),
          suggested_action: splittable ? 'split_shard' : 'increase_concurrency',
          shard_index: r.shard,
          ...(r.sub !== undefined ? { sub_shard: r.sub } : {}),
          cas_id: r.casId(),
          elapsed_ms: Math.round(r.elapsedMs),
          split_factor: policy.split_factor,
          timestamp: new Date(now).toISOString(),
        });
      }
    }
    return signals;
  }
}

/** How often a run is checked: a few times per threshold, between 50 ms and 1 s. */
function watchIntervalMs(policy: AutotunePolicy): number {
  return Math.max(50, Math.min(1000, Math.round(policy.p95_ms / 4)));
}

/** Checks a run for hot shards while it runs (its plan's policy, read each time); returns the stop. */
export function watchHotspots(run: PlanRun, policies: AutotunePolicies, publish: (signal: AutotuneSignal) => void): () => void {
  const watch = new HotspotWatch(run);
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const policy = policies.for(run.planId);
    for (const signal of watch.check(policy)) publish(signal);
    timer = setTimeout(tick, watchIntervalMs(policy));
    timer.unref();
  };
  tick();
  return () => clearTimeout(timer);
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
