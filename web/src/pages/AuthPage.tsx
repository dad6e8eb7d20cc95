import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from '../router';
import { useAuth } from '../auth';
import { api } from '../api';
import type { AuthProviders } from '../api/types';
import { ErrorBox } from '../ui';
import { t } from '../i18n';

/** Where to go after a single sign-on: kept across the trip to the provider. */
const nextKey = 'parley.sso.next';

/** Why a single sign-on came back refused (the callback's sso_error). */
function ssoErrorText(code: string): string {
  switch (code) {
    case 'email_not_verified':
      return t('The provider has not confirmed your e-mail address, so it cannot be linked to an account.');
    case 'account_unverified':
      return t('The account with your e-mail address has not confirmed it yet: open the link in its verification mail first, or sign in with its password.');
    case 'no_account':
      return t('There is no account for your e-mail address on this server: ask an administrator for one.');
    case 'user_disabled':
      return t('This account is disabled.');
    default:
      return t('The sign-in provider refused or failed the sign-in. Try again.');
  }
}

/** Sign in and register: one form, two modes, plus passkeys and the single sign-on providers. */
export function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const { login, register, signInWithCode, signInWithPasskey } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [ways, setWays] = useState<AuthProviders | null>(null);
  const next = params.get('next');
  const safeNext = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  const qs = next ? `?next=${encodeURIComponent(next)}` : '';
  const code = params.get('sso');
  const ssoError = params.get('sso_error');
  const exchanged = useRef(false);

  useEffect(() => {
    api
      .get<AuthProviders>('/api/auth/providers', { auth: 'none' })
      .then(setWays)
      .catch(() => setWays({ password: true, passkeys: false, passwordReset: false, oidc: [] }));
  }, []);

  useEffect(() => {
    if (!code || exchanged.current) return;
    exchanged.current = true; // the code is single-use: never send it twice
    const target = sessionStorage.getItem(nextKey) || '/';
    sessionStorage.removeItem(nextKey);
    signInWithCode(code)
      .then(() => navigate(target.startsWith('/') && !target.startsWith('//') ? target : '/', { replace: true }))
      .catch(setError);
  }, [code, signInWithCode, navigate]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'login') await login(email, password);
      else await register(email, password, name);
      navigate(safeNext, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function passkey() {
    setBusy(true);
    setError(null);
    try {
      await signInWithPasskey();
      navigate(safeNext, { replace: true });
    } catch (err) {
      setError((await import('../passkeys')).passkeyPromptError(err));
    } finally {
      setBusy(false);
    }
  }

  const title = mode === 'login' ? t('Sign in') : t('Create an account');
  const showPassword = ways?.password ?? true;
  return (
    <section className="card narrow">
      <h1>{title}</h1>
      {ssoError && <ErrorBox error={ssoErrorText(ssoError)} testId="sso-error" />}
      {code && !error && <p className="muted">{t('Signing you in…')}</p>}
      {ways && ways.oidc.length > 0 && (
        <div className="sso" data-testid="sso-providers">
          {ways.oidc.map((p) => (
            <a
              key={p.name}
              className="button"
              href={p.loginURL}
              data-testid={`sso-${p.name}`}
              onClick={() => sessionStorage.setItem(nextKey, safeNext)}
            >
              {t('Sign in with {provider}', { provider: p.displayName })}
            </a>
          ))}
        </div>
      )}
      {mode === 'login' && ways?.passkeys && typeof window.PublicKeyCredential === 'function' && (
        <div className="sso">
          <button type="button" disabled={busy} onClick={passkey} data-testid="passkey-login">
            {t('Sign in with a passkey')}
          </button>
        </div>
      )}
      {showPassword ? (
        <form onSubmit={submit} data-testid={`${mode}-form`}>
          {mode === 'register' && (
            <label>
              {t('Name')}
              <input name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
            </label>
          )}
          <label>
            {t('Email')}
            <input
              name="email"
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label>
            {t('Password')}
            <input
              name="password"
              type="password"
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
              required
              minLength={mode === 'register' ? 8 : undefined}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <ErrorBox error={error} testId="auth-error" />
          <button type="submit" className="primary" disabled={busy} data-testid={`${mode}-submit`}>
            {busy ? t('Please wait…') : title}
          </button>
        </form>
      ) : (
        <ErrorBox error={error} testId="auth-error" />
      )}
      {showPassword && (
        <p className="muted">
          {mode === 'login' ? (
            <>
              {t('No account?')} <Link to={`/register${qs}`}>{t('Register')}</Link>
              {ways?.passwordReset && (
                <>
                  {' · '}
                  <Link to="/forgot" data-testid="forgot-link">
                    {t('Forgot your password?')}
                  </Link>
                </>
              )}
            </>
          ) : (
            <>
              {t('Have an account?')} <Link to={`/login${qs}`}>{t('Sign in')}</Link>
            </>
          )}
        </p>
      )}
    </section>
  );
}
