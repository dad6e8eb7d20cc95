import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useNavigate } from './router';
import { api } from './api';
import type { AuthResponse, User } from './api/types';

interface AuthState {
  user: User | null;
  loading: boolean;
  login(email: string, password: string): Promise<void>;
  register(email: string, password: string, name: string): Promise<void>;
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
      async logout() {
        const t = api.tokens;
        if (t) await api.post('/api/auth/logout', { refreshToken: t.refreshToken }, { auth: 'none' }).catch(() => undefined);
        api.clear();
        setUser(null);
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
