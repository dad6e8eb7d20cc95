import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from '../router';
import { api } from '../api';
import { ErrorBox } from '../ui';
import { t } from '../i18n';

/** A form's submit: runs action once, keeping busy, the error and whether it succeeded. */
function useSubmit(action: () => Promise<unknown>) {
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { done, error, busy, submit };
}

/** "Forgot password": asks for the address; the answer never tells whether it has an account. */
export function ForgotPage() {
  const [email, setEmail] = useState('');
  const { done: sent, error, busy, submit } = useSubmit(() =>
    api.post('/api/auth/password/forgot', { email }, { auth: 'none' }),
  );

  return (
    <section className="card narrow">
      <h1>{t('Forgot your password?')}</h1>
      {sent ? (
        <p data-testid="forgot-sent" role="status">
          {t('If {email} has an account here, a link to choose a new password is on its way. It works once, for one hour.', { email })}
        </p>
      ) : (
        <form onSubmit={submit} data-testid="forgot-form">
          <label>
            {t('Email')}
            <input name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <ErrorBox error={error} testId="forgot-error" />
          <button type="submit" className="primary" disabled={busy} data-testid="forgot-submit">
            {busy ? t('Please wait…') : t('Send me a link')}
          </button>
        </form>
      )}
      <p className="muted">
        <Link to="/login">{t('Back to sign in')}</Link>
      </p>
    </section>
  );
}

/** The page an e-mailed reset or invitation link opens: choose a password. */
export function ResetPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const { done, error, busy, submit } = useSubmit(() =>
    api.post('/api/auth/password/reset', { token, newPassword: password }, { auth: 'none' }),
  );

  return (
    <section className="card narrow">
      <h1>{t('Choose a password')}</h1>
      {done ? (
        <p data-testid="reset-done" role="status">
          {t('Your password is set, and every other session has been signed out.')} <Link to="/login">{t('Sign in')}</Link>
        </p>
      ) : (
        <form onSubmit={submit} data-testid="reset-form">
          <label>
            {t('New password')}
            <input
              name="password"
              type="password"
              autoComplete="new-password"
              required
              minLength={8}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <ErrorBox error={error} testId="reset-error" />
          <button type="submit" className="primary" disabled={busy || !token} data-testid="reset-submit">
            {busy ? t('Please wait…') : t('Set password')}
          </button>
        </form>
      )}
    </section>
  );
}

/** The page a verification link opens: one click confirms the address (a click, not the page
 * load, so a mail scanner that opens links does not use it up). */
export function VerifyPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const { done, error, busy, submit } = useSubmit(() => api.post('/api/auth/email/verify', { token }, { auth: 'none' }));

  return (
    <section className="card narrow">
      <h1>{t('Confirm your e-mail address')}</h1>
      {done ? (
        <p data-testid="verify-done" role="status">
          {t('Thank you: your e-mail address is confirmed.')} <Link to="/">{t('Go to your rooms')}</Link>
        </p>
      ) : (
        <form onSubmit={submit} data-testid="verify-form">
          <ErrorBox error={error} testId="verify-error" />
          <button type="submit" className="primary" disabled={busy || !token} data-testid="verify-submit">
            {busy ? t('Please wait…') : t('Confirm my address')}
          </button>
        </form>
      )}
    </section>
  );
}
