/**
 * What starts runs of blueprints on its own: events on the bus (the router,
 * `xyn.triggers`) and cron triggers, fired exactly once per due time and once
 * after downtime (state in `xyn_cron`).
 */
export { CronTriggers, MAX_COUNTED_MISSED, MAX_SLEEP_MS, type CronBlueprint, type CronFire, type CronRecord, type CronTriggersOptions } from './cron.ts';
export { EventRouter, MAX_CHAIN_DEPTH, type EventRouterDeps, type EventTrigger } from './event-router.ts';
