/**
 * Who may write which topics: the node's own namespaces.
 *
 * Everything under `hxo`, `xyn` and `genesis` is written by the node: a
 * monitor, the audit trail or the engine trusts an `hxo.plan` or an
 * `xyn.kernel.started` to be the node's word. A topic from outside (an API
 * caller's emit) is refused there — by its first token in any letter case
 * (`HXO.plan`, `Xyn.audit.x`, `genesis`), since a look-alike reads as the
 * node's own in a log or a UI even though NATS patterns, which are
 * case-sensitive, would not deliver it to the node's subscribers.
 *
 * The exceptions are the node's control topics: `genesis.heal` and
 * `genesis.intent` ask HXO to act (split a running plan's shard, change the
 * auto-tuning policy; seed 000 flow 4). Outsiders may emit them, exactly as
 * spelled; the API decides who may (auth.ts, `CONTROL_CAPABILITIES`).
 *
 *   assertEmittable('deploy.requested');   // undefined: anyone's namespace
 *   assertEmittable('genesis.heal');       // 'genesis.heal': a control topic
 *   assertEmittable('HXO.plan');           // throws ReservedTopicError
 */
import { XynError, registerErrorClass } from '../core/errors.ts';

/** First tokens only the node writes, compared in lower case. */
export const NODE_NAMESPACES = ['hxo', 'xyn', 'genesis'] as const;
export type NodeNamespace = (typeof NODE_NAMESPACES)[number];

/** The node's topics that outsiders may emit to ask it to act. */
export const CONTROL_TOPICS = ['genesis.heal', 'genesis.intent'] as const;
export type ControlTopic = (typeof CONTROL_TOPICS)[number];

/** Where outsiders' events may go instead: the same tokens under a namespace of their own. */
const OWN_NAMESPACE = 'app';

/** A topic in a namespace only the node writes. */
export class ReservedTopicError extends XynError {
  constructor(
    readonly topic: string,
    readonly namespace: NodeNamespace,
    /** A name the caller may use instead. */
    readonly suggestion: string,
    message: string,
  ) {
    super(message, 'RESERVED_TOPIC', { topic, namespace, suggestion });
  }
}
registerErrorClass(ReservedTopicError);

/** The node namespace a topic falls in (by its first token, any letter case), if any. */
export function nodeNamespaceOf(topic: string): NodeNamespace | undefined {
  const first = (topic.split('.', 1)[0] as string).toLowerCase();
  return NODE_NAMESPACES.find((ns) => ns === first);
}

export function isControlTopic(topic: string): topic is ControlTopic {
  return (CONTROL_TOPICS as readonly string[]).includes(topic);
}

/**
 * Whether an outsider may emit `topic` (a valid topic name: assertTopic):
 * returns the control topic it is, undefined for a name of its own, and
 * throws ReservedTopicError naming the topic, the namespace and what to use
 * instead for anything else in a node namespace.
 */
export function assertEmittable(topic: string): ControlTopic | undefined {
  if (isControlTopic(topic)) return topic;
  const namespace = nodeNamespaceOf(topic);
  if (!namespace) return undefined;
  const rest = topic.split('.').slice(1);
  const suggestion = [OWN_NAMESPACE, ...(rest.length > 0 ? rest : [topic])].join('.').toLowerCase();
  const lookalike = CONTROL_TOPICS.find((c) => c === topic.toLowerCase() || topic.toLowerCase().startsWith(`${c}.`));
  const except = namespace === 'genesis' ? `, except the control topics ${CONTROL_TOPICS.join(' and ')} spelled exactly` : '';
  const instead = lookalike
    ? `to ask the node to act emit "${lookalike}" exactly; else use a namespace of your own, e.g. "${suggestion}"`
    : `use a namespace of your own, e.g. "${suggestion}"`;
  throw new ReservedTopicError(topic, namespace, lookalike ?? suggestion, `"${topic}" is in the node-owned namespace "${namespace}": only the node writes ${NODE_NAMESPACES.join(', ')} topics, in any letter case${except}; ${instead}`);
}
