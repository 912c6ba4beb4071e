import { ClientError, invalidInput } from '../errors.js';
import { clientMessage, type ClientMessage } from '../protocol/messages.js';

/** A text frame read: the message, or the error to answer it with (naming the mark's ref when usable). */
export type ClientInput = { message: ClientMessage } | { error: ClientError; ref?: string };

/** Reads a client's text frame against the protocol's schema (docs/protocol.md). */
export function readClientMessage(text: string): ClientInput {
  try {
    const json: unknown = JSON.parse(text);
    const parsed = clientMessage.safeParse(json);
    if (!parsed.success) {
      // A refused mark names its ref even when the rest is invalid: its client drops or resends it.
      const ref = refOf(json);
      // A value that is no message at all is named by what it lacks: its `type`.
      return { error: invalidInput(parsed.error, { whole: 'type' }), ...(ref !== undefined && { ref }) };
    }
    return { message: parsed.data };
  } catch {
    return { error: new ClientError('bad_request', 'The message is not valid JSON') };
  }
}

/** A mark's `ref` read from the raw JSON, when it is a usable one (the schema's: 1 to 64 characters). */
function refOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || !('ref' in json)) return undefined;
  const { ref } = json;
  return typeof ref === 'string' && ref.length >= 1 && ref.length <= 64 ? ref : undefined;
}
