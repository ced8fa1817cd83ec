/**
 * HXO's link with Genesis autonomy (seed 000 flow 4, "Integration Points"):
 *
 *   hxo.autotune.signal ──▶ autonomy actor ──▶ genesis.heal {action: split_shard}
 *   genesis.heal   ──▶ HXO splits the hot shard ──▶ hxo.autotune.applied
 *   genesis.intent ──▶ HXO changes its auto-tuning policy ──▶ hxo.autotune.policy
 *
 * A request HXO cannot carry out (unknown plan, action or intent, a shard
 * that already ended, a stage that cannot be split, a malformed payload)
 * is answered with `hxo.alert` `heal_refused` / `intent_refused` naming why.
 *
 * Who may ask is decided where outsiders' events enter the bus (the API's
 * emit-guard: these are control topics, needing `hxo:plan`); on the bus,
 * a request is the node's own or one that passed that check.
 */
import { z } from 'zod';
import type { Bus } from '../../kernel/bus.ts';
import type { XynEvent } from '../../core/event.ts';
import { describeIssue } from '../../core/errors.ts';
import { TopicActor } from '../../kernel/topic-actor.ts';
import { autotuneIntent, type AutotunePolicies, type AutotuneSignal } from './autotune.ts';
import type { PlanRun, SplitOutcome } from '../run/plan-run.ts';

const healRequest = z.object({
  source: z.string().optional(),
  plan_id: z.string().min(1),
  action: z.literal('split_shard', { error: 'the only heal action is "split_shard"' }),
  parameters: z.object({
    stage_id: z.string().min(1),
    shard_index: z.number().int().min(0),
    split_factor: z.number().int().min(2).max(64).optional(),
  }),
});

/**
 * The autonomy actor: answers each hot-shard signal that suggests a split
 * with a `genesis.heal` asking for it.
 */
export function autonomyActor(bus: Bus): TopicActor {
  return new TopicActor('autonomy', bus, ['hxo.autotune.signal'], async ([event]) => {
    if (!event) return;
    const signal = event.data as Partial<AutotuneSignal>;
    if (signal.suggested_action !== 'split_shard' || typeof signal.plan_id !== 'string') return;
    await bus.publish(
      'genesis.heal',
      {
        source: 'autonomy',
        plan_id: signal.plan_id,
        action: 'split_shard',
        parameters: { stage_id: signal.stage_id, shard_index: signal.shard_index, split_factor: signal.split_factor },
        signal_event_id: event.event_id,
      },
      { actor: 'autonomy', correlation_id: event.correlation_id },
    );
  });
}

export interface HealTarget {
  /** The live run of a plan, if it is running here. */
  runOf(planId: string): PlanRun | undefined;
  /** Splits a shard of a live run, journaling the split. */
  split(run: PlanRun, stage: number, shard: number, factor: number): Promise<SplitOutcome>;
  policies: AutotunePolicies;
}

/** HXO's listener for `genesis.heal` and `genesis.intent`. */
export function healListener(bus: Bus, target: HealTarget): TopicActor {
  return new TopicActor('hxo.genesis', bus, ['genesis.heal', 'genesis.intent'], async ([event]) => {
    if (event?.event_name === 'genesis.heal') await onHeal(bus, target, event);
    else if (event) await onIntent(bus, target, event);
  });
}

async function onHeal(bus: Bus, target: HealTarget, event: XynEvent): Promise<void> {
  const refuse = (reason: string) => refuseRequest(bus, event, 'heal_refused', reason);
  const parsed = healRequest.safeParse(event.data);
  if (!parsed.success) return refuse(describeIssue('genesis.heal', parsed.error.issues[0] as z.core.$ZodIssue));
  const { plan_id: planId, parameters } = parsed.data;
  const run = target.runOf(planId);
  if (!run) return refuse(`plan ${planId} is not running on this node`);
  const stage = run.plan.stages.find((s) => s.id === parameters.stage_id);
  if (!stage) return refuse(`plan ${planId} has no stage "${parameters.stage_id}"`);
  const factor = parameters.split_factor ?? target.policies.for(planId).split_factor;
  const outcome = await target.split(run, stage.index, parameters.shard_index, factor);
  if (!outcome.ok) return refuse(outcome.reason);
  const { record } = outcome;
  await bus.publish(
    'hxo.autotune.applied',
    {
      plan_id: planId,
      stage_id: stage.id,
      action: 'split_shard',
      shard_index: record.shard,
      cas_id: outcome.casId,
      split_factor: record.factor,
      sub_shards: record.parts,
      first_leaf: outcome.firstLeaf,
      total_shards: run.layout.total,
      request_event_id: event.event_id,
    },
    { actor: 'hxo', correlation_id: event.correlation_id },
  );
}

async function onIntent(bus: Bus, target: HealTarget, event: XynEvent): Promise<void> {
  const parsed = autotuneIntent.safeParse(event.data);
  if (!parsed.success) return refuseRequest(bus, event, 'intent_refused', describeIssue('genesis.intent', parsed.error.issues[0] as z.core.$ZodIssue));
  // A policy for a plan that is not running would be kept until that plan ends, which may be never.
  const planId = parsed.data.plan_id;
  if (planId !== undefined && !target.runOf(planId)) return refuseRequest(bus, event, 'intent_refused', `plan ${planId} is not running on this node`);
  const policy = target.policies.apply(parsed.data);
  await bus.publish(
    'hxo.autotune.policy',
    { ...(parsed.data.plan_id ? { plan_id: parsed.data.plan_id } : {}), policy, source: parsed.data.source ?? 'unknown', request_event_id: event.event_id },
    { actor: 'hxo', correlation_id: event.correlation_id },
  );
}

/** Answers a request HXO will not carry out: `hxo.alert` saying why, tied to the request (and its plan, if it names one). */
async function refuseRequest(bus: Bus, event: XynEvent, alertType: 'heal_refused' | 'intent_refused', reason: string): Promise<void> {
  const planId = event.data.plan_id;
  await bus.publish(
    'hxo.alert',
    { ...(typeof planId === 'string' ? { plan_id: planId } : {}), alert_type: alertType, severity: 'warning', message: reason, request_event_id: event.event_id },
    { actor: 'hxo', correlation_id: event.correlation_id },
  );
}
