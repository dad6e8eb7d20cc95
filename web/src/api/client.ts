import type { AuthResponse } from './types';
import { t } from '../i18n';

/** An error answered by the API, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Reads the API's error shape {"error": {"code", "message"}}; anything else gets a generic message. */
export async function parseError(res: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // body unreadable: fall through to the generic message
  }
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body && typeof body.error === 'object' && body.error) {
      return new ApiError(
        res.status,
        body.error.code || `http_${res.status}`,
        body.error.message || res.statusText || t('Request failed ({status}).', { status: res.status }),
      );
    }
  } catch {
    // not JSON
  }
  const fallback = text && text.length < 200 ? text : res.statusText;
  return new ApiError(res.status, `http_${res.status}`, fallback || t('Request failed ({status}).', { status: res.status }));
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt?: string;
}

/** Where the tokens live between page loads. */
export interface TokenStore {
  get(): Tokens | null;
  set(t: Tokens): void;
  clear(): void;
}

const storageKey = 'parley.tokens';

/** A TokenStore on localStorage (or any Storage). */
export function storageTokenStore(storage: Storage, key = storageKey): TokenStore {
  return {
    get() {
      const raw = storage.getItem(key);
      if (!raw) return null;
      try {
        const t = JSON.parse(raw) as Tokens;
        return t && typeof t.accessToken === 'string' && typeof t.refreshToken === 'string' ? t : null;
      } catch {
        return null;
      }
    },
    set(t) {
      storage.setItem(
        key,
        JSON.stringify({ accessToken: t.accessToken, refreshToken: t.refreshToken, accessExpiresAt: t.accessExpiresAt }),
      );
    },
    clear() {
      storage.removeItem(key);
    },
  };
}

/** auth: "user" sends the bearer token and refreshes on 401; "none" sends nothing;
 * "optional" sends the token when there is one (guest-capable routes). */
export interface RequestOptions {
  auth?: 'user' | 'none' | 'optional';
  signal?: AbortSignal;
}

export interface ClientOptions {
  store: TokenStore;
  fetch?: typeof fetch;
  baseUrl?: string;
  /** Called when the session is gone (refresh failed): the app goes to sign-in. */
  onSessionLost?: () => void;
  now?: () => number;
}

/** The HTTP client for the Parley API: bearer auth, one refresh-and-retry on 401. */
export class ApiClient {
  private readonly store: TokenStore;
  private readonly fetchFn: typeof fetch;
  private readonly baseUrl: string;
  private readonly now: () => number;
  onSessionLost?: () => void;
  private refreshing: Promise<boolean> | null = null;

  constructor(opts: ClientOptions) {
    this.store = opts.store;
    this.fetchFn = opts.fetch ?? ((...a) => fetch(...a));
    this.baseUrl = opts.baseUrl ?? '';
    this.onSessionLost = opts.onSessionLost;
    this.now = opts.now ?? Date.now;
  }

  get tokens(): Tokens | null {
    return this.store.get();
  }

  saveAuth(a: AuthResponse): void {
    this.store.set({ accessToken: a.accessToken, refreshToken: a.refreshToken, accessExpiresAt: a.accessExpiresAt });
  }

  clear(): void {
    this.store.clear();
  }

  /** Refreshes the token pair once; concurrent callers share one refresh (a refresh token is single-use). */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const t = this.store.get();
    if (!t?.refreshToken) return false;
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + '/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refreshToken: t.refreshToken }),
      });
    } catch {
      return false; // network down: keep the tokens, the caller reports the failure
    }
    if (!res.ok) {
      if (res.status < 500) this.store.clear(); // revoked or expired: the session is over
      return false;
    }
    this.saveAuth((await res.json()) as AuthResponse);
    return true;
  }

  /** An access token valid for at least another 30 s, refreshing first when needed (for SSE URLs). */
  async freshAccessToken(): Promise<string | null> {
    const t = this.store.get();
    if (!t) return null;
    const exp = t.accessExpiresAt ? Date.parse(t.accessExpiresAt) : NaN;
    if (!Number.isNaN(exp) && exp - this.now() < 30_000) {
      if (!(await this.refresh())) return null;
    }
    return this.store.get()?.accessToken ?? null;
  }

  /** Sends a request and returns the raw Response, or throws ApiError. */
  async raw(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Response> {
    const auth = opts.auth ?? 'user';
    const send = () => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const t = auth === 'none' ? null : this.store.get();
      if (t) headers['Authorization'] = `Bearer ${t.accessToken}`;
      return this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: opts.signal,
      });
    };
    let res: Response;
    try {
      res = await send();
      if (res.status === 401 && auth !== 'none' && this.store.get()) {
        if (await this.refresh()) {
          res = await send();
        } else if (auth === 'optional') {
          res = await send(); // the stale session is gone: try again as a guest
        } else {
          this.onSessionLost?.();
        }
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network_error', t('The server could not be reached. Check your connection and try again.'));
    }
    if (!res.ok) {
      const err = await parseError(res);
      // A disabled account's tokens still verify, but every route refuses them: the session is over.
      if (err.code === 'user_disabled' && auth === 'user' && this.store.get()) {
        this.store.clear();
        this.onSessionLost?.();
      }
      throw err;
    }
    return res;
  }

  /** Sends a request and decodes the JSON answer (undefined for 204). */
  async request<T>(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    const res = await this.raw(method, path, body, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, opts?: RequestOptions) {
    return this.request<T>('GET', path, undefined, opts);
  }
  post<T>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('POST', path, body ?? {}, opts);
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  put<T>(path: string, body: unknown) {
    return this.request<T>('PUT', path, body);
  }
  del(path: string) {
    return this.request<void>('DELETE', path);
  }
}

/** Builds a path with URL-encoded segments: path`/api/rooms/${name}`. */
export function path(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce((acc, s, i) => acc + s + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}
