/**
 * Compile-time only (never bundled): the client's copy of the wire types must stay equal to the
 * server's schemas, so that `web/client/` (without this file) can be copied alone into another
 * front end.
 */
import type { ClientMessage, ServerMessage, WireNotification } from '../../server/protocol/messages.js';
import type { ClientFrame, NotifyNotification, ServerFrame } from './notify-client.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

export type ProtocolChecks = [
  Assert<Equal<NotifyNotification, WireNotification>>,
  Assert<Equal<ServerFrame, ServerMessage>>,
  Assert<Equal<ClientFrame, ClientMessage>>,
];
