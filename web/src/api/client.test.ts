import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, parseError, path, storageTokenStore, type Tokens, type TokenStore } from './client';

function memoryStore(initial: Tokens | null = null): TokenStore & { value: Tokens | null } {
  const s = {
    value: initial,
    get: () => s.value,
    set: (t: Tokens) => {
      s.value = t;
    },
    clear: () => {
      s.value = null;
    },
  };
  return s;
}

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

const authBody = (n: number) => ({
  user: { id: 'u1', email: 'a@example.com', name: 'A', role: 'user', disabled: false, createdAt: '' },
  accessToken: `access${n}`,
  refreshToken: `refresh${n}`,
  accessExpiresAt: '2030-01-01T00:00:00Z',
});

describe('parseError', () => {
  it('reads code and message from the error shape', async () => {
    const e = await parseError(json(422, { error: { code: 'room_full', message: 'room "x" is full' } }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(422);
    expect(e.code).toBe('room_full');
    expect(e.message).toBe('room "x" is full');
  });
  it('falls back for non-JSON bodies', async () => {
    const e = await parseError(new Response('bad gateway', { status: 502, statusText: 'Bad Gateway' }));
    expect(e.code).toBe('http_502');
    expect(e.message).toBe('bad gateway');
  });
  it('falls back for JSON without the error key', async () => {
    const e = await parseError(json(500, { oops: true }));
    expect(e.code).toBe('http_500');
  });
});

describe('ApiClient', () => {
  it('sends the bearer token and decodes JSON', async () => {
    const fetchFn = vi.fn(async () => json(200, { name: 'r1' }));
    const c = new ApiClient({ store: memoryStore({ accessToken: 'a', refreshToken: 'r' }), fetch: fetchFn });
    expect(await c.get('/api/rooms/r1')).toEqual({ name: 'r1' });
    const [url, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/rooms/r1');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer a');
  });

  it('throws ApiError with the server message', async () => {
    const c = new ApiClient({
      store: memoryStore({ accessToken: 'a', refreshToken: 'r' }),
      fetch: async () => json(403, { error: { code: 'banned', message: 'you are banned' } }),
    });
    await expect(c.post('/api/rooms/x/join')).rejects.toMatchObject({ status: 403, code: 'banned', message: 'you are banned' });
  });

  it('refreshes once on 401 and retries with the new token', async () => {
    const store = memoryStore({ accessToken: 'access0', refreshToken: 'refresh0' });
    const seen: string[] = [];
    const fetchFn = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/auth/refresh') {
        expect(JSON.parse(String(init?.body))).toEqual({ refreshToken: 'refresh0' });
        return json(200, authBody(1));
      }
      const auth = (init?.headers as Record<string, string>).Authorization;
      seen.push(auth);
      return auth === 'Bearer access1' ? json(200, { ok: 1 }) : json(401, { error: { code: 'unauthorized', message: 'expired' } });
    });
    const c = new ApiClient({ store, fetch: fetchFn as typeof fetch });
    expect(await c.get('/api/auth/me')).toEqual({ ok: 1 });
    expect(seen).toEqual(['Bearer access0', 'Bearer access1']);
    expect(store.value?.refreshToken).toBe('refresh1');
  });

  it('shares one refresh between concurrent 401s', async () => {
    const store = memoryStore({ accessToken: 'access0', refreshToken: 'refresh0' });
    let refreshes = 0;
    const fetchFn = async (url: string, init?: RequestInit) => {
      if (url === '/api/auth/refresh') {
        refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        return json(200, authBody(1));
      }
      const auth = (init?.headers as Record<string, string>).Authorization;
      return auth === 'Bearer access1' ? json(200, {}) : json(401, {});
    };
    const c = new ApiClient({ store, fetch: fetchFn as typeof fetch });
    await Promise.all([c.get('/a'), c.get('/b'), c.get('/c')]);
    expect(refreshes).toBe(1);
  });

  it('gives up after a failed refresh, clears tokens and reports the lost session', async () => {
    const store = memoryStore({ accessToken: 'a', refreshToken: 'r' });
    const lost = vi.fn();
    let calls = 0;
    const fetchFn = async (url: string) => {
      calls++;
      if (url === '/api/auth/refresh') return json(401, { error: { code: 'invalid_token', message: 'revoked' } });
      return json(401, { error: { code: 'unauthorized', message: 'expired' } });
    };
    const c = new ApiClient({ store, fetch: fetchFn as typeof fetch, onSessionLost: lost });
    await expect(c.get('/api/rooms')).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(2); // the request and one refresh, no loop
    expect(store.value).toBeNull();
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it('ends the session of a disabled account', async () => {
    const store = memoryStore({ accessToken: 'a', refreshToken: 'r' });
    const lost = vi.fn();
    const fetchFn = async () => json(403, { error: { code: 'user_disabled', message: 'this account is disabled' } });
    const c = new ApiClient({ store, fetch: fetchFn as typeof fetch, onSessionLost: lost });
    await expect(c.get('/api/admin/overview')).rejects.toMatchObject({ status: 403, code: 'user_disabled' });
    expect(store.value).toBeNull();
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it('keeps the session on other refusals', async () => {
    const store = memoryStore({ accessToken: 'a', refreshToken: 'r' });
    const lost = vi.fn();
    const fetchFn = async () => json(403, { error: { code: 'forbidden', message: 'this route is for administrators' } });
    const c = new ApiClient({ store, fetch: fetchFn as typeof fetch, onSessionLost: lost });
    await expect(c.get('/api/admin/overview')).rejects.toMatchObject({ status: 403 });
    expect(store.value).not.toBeNull();
    expect(lost).not.toHaveBeenCalled();
  });

  it('retries an optional-auth request as a guest when the session is gone', async () => {
    const store = memoryStore({ accessToken: 'a', refreshToken: 'r' });
    const fetchFn = async (url: string, init?: RequestInit) => {
      if (url === '/api/auth/refresh') return json(401, {});
      const auth = (init?.headers as Record<string, string>).Authorization;
      return auth ? json(401, {}) : json(200, { token: 't' });
    };
    const c = new ApiClient({ store, fetch: fetchFn as typeof fetch });
    expect(await c.post('/api/rooms/x/join', { displayName: 'G' }, { auth: 'optional' })).toEqual({ token: 't' });
  });

  it('does not refresh for auth "none" requests', async () => {
    const fetchFn = vi.fn(async () => json(401, { error: { code: 'invalid_credentials', message: 'wrong email or password' } }));
    const c = new ApiClient({ store: memoryStore({ accessToken: 'a', refreshToken: 'r' }), fetch: fetchFn });
    await expect(c.post('/api/auth/login', {}, { auth: 'none' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(fetchFn).toHaveBeenCalledTimes(1);
  });

  it('reports network failures as ApiError status 0', async () => {
    const c = new ApiClient({ store: memoryStore(), fetch: async () => Promise.reject(new TypeError('Failed to fetch')) });
    await expect(c.get('/x', { auth: 'none' })).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('refreshes an access token about to expire before handing it out', async () => {
    const store = memoryStore({ accessToken: 'old', refreshToken: 'r', accessExpiresAt: '2020-01-01T00:00:10Z' });
    const c = new ApiClient({
      store,
      fetch: (async () => json(200, authBody(2))) as unknown as typeof fetch,
      now: () => Date.parse('2020-01-01T00:00:00Z'),
    });
    expect(await c.freshAccessToken()).toBe('access2');
  });
});

describe('storageTokenStore', () => {
  it('round-trips tokens and ignores garbage', () => {
    localStorage.clear();
    const s = storageTokenStore(localStorage);
    expect(s.get()).toBeNull();
    s.set({ accessToken: 'a', refreshToken: 'r', accessExpiresAt: 'x' });
    expect(s.get()).toEqual({ accessToken: 'a', refreshToken: 'r', accessExpiresAt: 'x' });
    expect(JSON.parse(localStorage.getItem('parley.tokens')!)).toMatchObject({ accessToken: 'a' });
    s.clear();
    expect(s.get()).toBeNull();
    localStorage.setItem('parley.tokens', '{not json');
    expect(s.get()).toBeNull();
  });
});

describe('path', () => {
  it('encodes segments', () => {
    expect(path`/api/rooms/${'a b/c'}/join`).toBe('/api/rooms/a%20b%2Fc/join');
  });
});
