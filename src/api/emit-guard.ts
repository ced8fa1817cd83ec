/**
 * What a caller may emit onto the bus, checked before anything is
 * published: a valid topic name (400), outside the node's namespaces (403
 * naming the namespace and what to use instead), and for a control topic
 * the capability of what it makes the node do (403 naming it). Every door
 * through which outsiders' events enter the bus goes through here, so a
 * door cannot forget a rule.
 *
 *   const control = checkEmit(req.principal, body.event_name); // 'genesis.heal' | undefined
 */
import { ValidationError } from '../core/errors.ts';
import { ReservedTopicError, assertEmittable, type ControlTopic } from '../kernel/namespaces.ts';
import { assertTopic } from '../kernel/topic.ts';
import { CONTROL_CAPABILITIES, type Principal } from './auth.ts';
import { ApiError, badRequest } from './errors.ts';

/** Throws the ApiError that refuses `principal` emitting `topic`; returns the control topic it is, if one. */
export function checkEmit(principal: Principal, topic: string, field = 'event_name'): ControlTopic | undefined {
  let control: ControlTopic | undefined;
  try {
    assertTopic(topic);
    control = assertEmittable(topic);
  } catch (err) {
    if (err instanceof ReservedTopicError) throw new ApiError(403, 'forbidden', `${field}: ${err.message}`, { field, ...err.details });
    if (err instanceof ValidationError) throw badRequest(`${field}: ${err.message}`, { field });
    throw err;
  }
  if (!control) return undefined;
  const { capability, does } = CONTROL_CAPABILITIES[control];
  if (!principal.capabilities.has(capability)) {
    throw new ApiError(
      403,
      'forbidden',
      `${field}: emitting ${control} needs the ${capability} capability (${does}); role ${principal.role} does not have it`,
      { field, topic: control, capability },
    );
  }
  return control;
}
