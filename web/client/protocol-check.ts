/**
 * Compile-time only (never bundled): the client's copy of the wire types must stay equal to the
 * server's schemas, and its close-code table to the server's error catalog, so that `web/client/`
 * (without this file) can be copied alone into another front end.
 */
import type { ClientAction, ErrorCode, errorCatalog } from '../../server/errors.js';
import type { ClientMessage, ServerMessage, WireNotification } from '../../server/protocol/messages.js';
import type { CLOSE_CODES, CloseAction } from './close-codes.js';
import type { RETRY_MARK_CODES } from './mark-queue.js';
import type { ClientFrame, NotifyNotification, ServerFrame } from './notify-client.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

type Catalog = typeof errorCatalog;
/** Per close code, what the catalog's errors with it ask of the client (a union when they disagree). */
type CatalogActions = {
  -readonly [K in keyof Catalog as Catalog[K]['closeCode']]: Catalog[K]['clientAction'];
};
/** Per close code, the catalog's error codes with it. */
type CatalogCodes = { [K in keyof Catalog as Catalog[K]['closeCode']]: K };
type Table = typeof CLOSE_CODES;
type ClientActions = { -readonly [C in keyof Table]: Table[C]['action'] };
/** True when each error code the client reports for a close code is one of the catalog's for it. */
type CodesAgree = {
  [C in keyof Table]: Table[C]['code'] extends CatalogCodes[C & keyof CatalogCodes] ? true : false;
}[keyof Table];

/** The catalog's errors after which the client comes back (a passing reason). */
type ComeBackCodes = {
  [K in keyof Catalog]: Catalog[K]['clientAction'] extends 'reconnect' ? K : never;
}[keyof Catalog];
/**
 * Those that never answer a mark: REST routes only (not_found, dossier_not_ready), answered to the
 * upgrade request before any socket (too_many_sockets, too_many_upgrades), or closing the socket
 * unsent (slow_consumer: the mark in flight goes again on the next socket).
 */
type NeverAMarksAnswer =
  'not_found' | 'dossier_not_ready' | 'too_many_sockets' | 'too_many_upgrades' | 'slow_consumer';

export type ProtocolChecks = [
  Assert<Equal<NotifyNotification, WireNotification>>,
  Assert<Equal<ServerFrame, ServerMessage>>,
  Assert<Equal<ClientFrame, ClientMessage>>,
  // web/client/close-codes.ts is server/errors.ts's (scripts/generate-close-codes.ts writes it).
  Assert<Equal<CloseAction, ClientAction>>,
  Assert<Equal<ClientActions, CatalogActions>>,
  Assert<Equal<CodesAgree, true>>,
  // A mark refused with one of these is sent again: each is an error the server reports, and
  // they are the catalog's passing ones that can answer a mark (a new one fails here until
  // web/client/mark-queue.ts takes it, or NeverAMarksAnswer names it).
  Assert<(typeof RETRY_MARK_CODES)[number] extends ErrorCode ? true : false>,
  Assert<Equal<(typeof RETRY_MARK_CODES)[number], Exclude<ComeBackCodes, NeverAMarksAnswer>>>,
];
