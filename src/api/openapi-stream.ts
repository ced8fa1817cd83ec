/**
 * The live stream (stream.ts) in the OpenAPI document. OpenAPI describes
 * HTTP, not WebSocket: the stream is a GET that upgrades (101), with what
 * follows in `x-websocket` — the schema of the frames a client may send
 * (the one stream-client.ts checks them with) and the close codes a program
 * acts on. docs/stream.md tells the rest.
 */
import { FRAME_CODECS } from './event-frames.ts';
import { jsonSchema } from './json-schema.ts';
import { CLOSE_SLOW_CONSUMER, CLOSE_TOKEN_REVOKED, STREAM_CAPABILITY } from './stream.ts';
import { CLIENT_FRAME, CLOSE_INTERNAL_ERROR } from './stream-client.ts';
import { CLOSE_INVALID_DATA, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_TRY_AGAIN_LATER, MAX_FRAME_BYTES } from './stream-limits.ts';

const SERVER_FRAMES = [
  '{"type":"subscribed","sub":N,"topics":[…],"since":…,"last_seq":…,"oldest_seq":…}',
  '{"type":"unsubscribed","subs":[…]}',
  '{"type":"event","sub":N,"event":{…}}',
  '{"type":"lagged","sub":N,"skipped":K,"from_seq":…,"to_seq":…}',
  '{"type":"truncated","sub":N,"oldest_seq":S,"from_seq":…,"to_seq":…}',
  '{"type":"error","error":{code,message,details?}}',
];

const CLOSE_CODES: Record<number, string> = {
  1001: 'the node is stopping',
  [CLOSE_INVALID_DATA]: 'a text frame that is not valid UTF-8',
  [CLOSE_POLICY]: 'over a limit (subscriptions, patterns per subscribe, answers left unread), after an error frame naming it',
  [CLOSE_TOO_BIG]: `a frame over ${MAX_FRAME_BYTES} bytes`,
  [CLOSE_INTERNAL_ERROR]: 'the node could not read the event log',
  [CLOSE_TRY_AGAIN_LATER]: 'the node serves as many stream connections as it may: connect again later',
  [CLOSE_TOKEN_REVOKED]: 'the token was revoked',
  [CLOSE_SLOW_CONSUMER]: 'the client stayed stalled too long (told it lagged first)',
};

/** The upgrade as an operation; `refusal` makes an error answer of the document's shape. */
export function streamOperation(refusal: (description: string) => unknown): Record<string, unknown> {
  return {
    operationId: 'stream',
    summary: 'the live event stream: a WebSocket (GET with Upgrade: websocket)',
    description:
      `Needs the ${STREAM_CAPABILITY} capability. The token goes in the Authorization header or, on this upgrade only (browsers cannot set its headers), in ?token=. ` +
      'After the upgrade the client sends subscribe/unsubscribe frames (x-websocket.client_frames) and the server sends: ' +
      SERVER_FRAMES.join(', ') +
      '. A subscribe with since replays the history after that seq, then live events: no gap, no duplicate.',
    'x-capability': STREAM_CAPABILITY,
    security: [{ bearer: [] }, { query_token: [] }],
    parameters: [
      { name: 'Upgrade', in: 'header', required: true, schema: { type: 'string', const: 'websocket' } },
      { name: 'codec', in: 'query', required: false, description: 'json: text frames; msgpack: binary frames', schema: { type: 'string', enum: [...FRAME_CODECS], default: 'json' } },
    ],
    responses: {
      101: { description: 'Switching Protocols: the connection is a WebSocket from here on' },
      400: refusal(`a codec other than ${FRAME_CODECS.join(' or ')}`),
      401: refusal('no token, or one that is not valid'),
      403: refusal(`the token's role lacks ${STREAM_CAPABILITY}`),
    },
    'x-websocket': { client_frames: jsonSchema(CLIENT_FRAME), close_codes: CLOSE_CODES },
  };
}
