/**
 * How long an HS256 secret must be, in one place: at least 32 bytes of its UTF-8 encoding (the
 * key HMAC-SHA256 gets, RFC 7518 §3.2), whatever its number of characters. The configuration
 * refuses a shorter one at start-up and the token verifier refuses it too.
 */
export const MIN_HS256_SECRET_BYTES = 32;

export const HS256_SECRET_RULE = `must be at least ${MIN_HS256_SECRET_BYTES} bytes (UTF-8)`;

/** The secret as the key HMAC gets: its UTF-8 bytes. */
export const hs256Key = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** The secret's length in bytes (UTF-8), which the rule counts. */
export const hs256SecretBytes = (secret: string): number => hs256Key(secret).byteLength;

export const isLongEnoughHs256Secret = (secret: string): boolean =>
  hs256SecretBytes(secret) >= MIN_HS256_SECRET_BYTES;
