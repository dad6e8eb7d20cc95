import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useNavigate } from './router';
import { api } from './api';
import type { AuthResponse, User } from './api/types';
import type { CeremonyJSON } from './passkeys';

interface AuthState {
  user: User | null;
  loading: boolean;
  login(email: string, password: string): Promise<void>;
  register(email: string, password: string, name: string): Promise<void>;
  /** Collects the session of a finished single sign-on (the one-time code of its redirect). */
  signInWithCode(code: string): Promise<void>;
  /** Signs in with a passkey this browser offers (no address typed). */
  signInWithPasskey(): Promise<void>;
  logout(): Promise<void>;
  /** Reads the user again (their role may have changed); a lost session goes to sign-in. */
  reload(): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(() => api.tokens !== null);
  const navigate = useNavigate();

  useEffect(() => {
    api.onSessionLost = () => {
      setUser(null);
      api.clear();
      const here = window.location.pathname + window.location.search;
      if (!here.startsWith('/login')) navigate(`/login?next=${encodeURIComponent(here)}`);
    };
  }, [navigate]);

  useEffect(() => {
    if (!api.tokens) return;
    api
      .get<User>('/api/auth/me')
      .then(setUser)
      .catch(() => setUser(null))
      .finally(() => setLoading(false));
  }, []);

  const accept = useCallback((a: AuthResponse) => {
    api.saveAuth(a);
    setUser(a.user);
  }, []);

  const value = useMemo<AuthState>(
    () => ({
      user,
      loading,
      async login(email, password) {
        accept(await api.post<AuthResponse>('/api/auth/login', { email, password }, { auth: 'none' }));
      },
      async register(email, password, name) {
        accept(await api.post<AuthResponse>('/api/auth/register', { email, password, name }, { auth: 'none' }));
      },
      async reload() {
        try {
          setUser(await api.get<User>('/api/auth/me'));
        } catch {
          // a network failure keeps what we know; a lost session already went to sign-in
        }
      },
      async signInWithCode(code) {
        accept(await api.post<AuthResponse>('/api/auth/oidc/exchange', { code }, { auth: 'none' }));
      },
      async signInWithPasskey() {
        const { credentialJSON, requestOptions } = await import('./passkeys'); // loaded when used: the first page stays small
        const c = await api.post<CeremonyJSON>('/api/auth/passkeys/login/begin', undefined, { auth: 'none' });
        const cred = (await navigator.credentials.get({ publicKey: requestOptions(c) })) as PublicKeyCredential | null;
        if (!cred) throw new DOMException('no passkey chosen', 'NotAllowedError');
        const body = { ceremony: c.ceremony, credential: credentialJSON(cred) };
        accept(await api.post<AuthResponse>('/api/auth/passkeys/login/finish', body, { auth: 'none' }));
      },
      async logout() {
        const t = api.tokens;
        // A single sign-on session also ends at the provider, when it offers a logout.
        const provider = t
          ? await api.get<{ url: string }>('/api/auth/oidc/logout').catch(() => ({ url: '' }))
          : { url: '' };
        if (t) await api.post('/api/auth/logout', { refreshToken: t.refreshToken }, { auth: 'none' }).catch(() => undefined);
        api.clear();
        setUser(null);
        if (provider.url) window.location.assign(provider.url);
      },
    }),
    [user, loading, accept],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}
