import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from '../router';
import { useAuth } from '../auth';
import { ErrorBox } from '../ui';

/** Sign in and register: one form, two modes. */
export function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const { login, register } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const next = params.get('next');
  const safeNext = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  const qs = next ? `?next=${encodeURIComponent(next)}` : '';

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

  const title = mode === 'login' ? 'Sign in' : 'Create an account';
  return (
    <section className="card narrow">
      <h1>{title}</h1>
      <form onSubmit={submit} data-testid={`${mode}-form`}>
        {mode === 'register' && (
          <label>
            Name
            <input name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
        )}
        <label>
          Email
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
          Password
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
          {busy ? 'Please wait…' : title}
        </button>
      </form>
      <p className="muted">
        {mode === 'login' ? (
          <>
            No account? <Link to={`/register${qs}`}>Register</Link>
          </>
        ) : (
          <>
            Have an account? <Link to={`/login${qs}`}>Sign in</Link>
          </>
        )}
      </p>
    </section>
  );
}
