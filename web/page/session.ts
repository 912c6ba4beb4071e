/**
 * The page's session: the token comes from the URL fragment (`#token=…`, never sent to a server)
 * and is kept for this tab only; a renewal address (`#renew=/path`) gives fresh ones.
 */

const TOKEN_KEY = 'normx-notify:page-token';
const RENEW_KEY = 'normx-notify:page-renew';

/**
 * Reads `#token=…` (and `&renew=…`) once, keeps them for this tab only, and takes them out of
 * the address bar.
 */
export function takeToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get('token');
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    const renew = sameOriginPath(fragment.get('renew'));
    if (renew) sessionStorage.setItem(RENEW_KEY, renew);
    else sessionStorage.removeItem(RENEW_KEY);
    history.replaceState(null, '', location.pathname + location.search);
    return fromFragment;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** A path on this origin (`/auth/notify-token`), or undefined: a token is never asked of another site. */
function sameOriginPath(value: string | null): string | undefined {
  if (!value || !value.startsWith('/') || value.startsWith('//')) return undefined;
  const url = new URL(value, location.origin);
  return url.origin === location.origin ? url.pathname + url.search : undefined;
}

/**
 * The client's getToken hook. With a renewal address (`#renew=/path`, the host application's
 * endpoint answering `{ "token": "…" }` with its session cookie), a fresh token is asked there
 * on every connection and on each expiry warning, and kept as the tab's token; without one, or
 * when it fails, the tab's token (the client then reports session_expired at expiry).
 */
export async function currentToken(): Promise<string> {
  const stored = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const renew = sessionStorage.getItem(RENEW_KEY);
  if (!renew) return stored;
  try {
    const response = await fetch(renew, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    const body = response.ok ? ((await response.json()) as { token?: unknown }) : undefined;
    if (typeof body?.token === 'string' && body.token !== '') {
      sessionStorage.setItem(TOKEN_KEY, body.token);
      return body.token;
    }
  } catch {
    // The renewal failed (offline, signed out): the stored token is what there is.
  }
  return stored;
}
