import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Navigate, useHere } from './router';
import { ApiError } from './api';
import { useAuth } from './auth';
import { formatDateTime, t } from './i18n';
import { apiErrorText } from './errors';

/** Message of any thrown value, preferring the API's human message. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return apiErrorText(e);
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ErrorBox({ error, testId }: { error: unknown; testId?: string }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <p className="error" role="alert" data-testid={testId ?? 'error'} data-code={code}>
      {typeof error === 'string' ? error : errorText(error)}
    </p>
  );
}

/** Loads data with a reload function; errors are kept for display. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    const n = ++seq.current;
    setLoading(true);
    try {
      const v = await run();
      if (n === seq.current) {
        setData(v);
        setError(null);
      }
    } catch (e) {
      if (n === seq.current) setError(e);
    } finally {
      if (n === seq.current) setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Renders children only for a signed-in user (admins only with admin), else goes to sign-in. */
export function RequireUser({ children, admin }: { children: ReactNode; admin?: boolean }) {
  const { user, loading } = useAuth();
  const here = useHere();
  if (loading) return <p className="muted">{t('Loading…')}</p>;
  if (!user) return <Navigate to={`/login?next=${encodeURIComponent(here)}`} />;
  if (admin && user.role !== 'admin')
    return (
      <p className="error" role="alert" data-testid="admin-only">
        {t('This page is for administrators.')}
      </p>
    );
  return <>{children}</>;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatDateTime(d);
}

/** Whether tests asked for low-resolution capture without simulcast (?lowres=1 or localStorage parley.lowres=1). */
export function lowResRequested(): boolean {
  const q = new URLSearchParams(window.location.search).get('lowres');
  if (q === '1') localStorage.setItem('parley.lowres', '1');
  if (q === '0') localStorage.removeItem('parley.lowres');
  return localStorage.getItem('parley.lowres') === '1';
}

/** A button that asks for a second click before doing something destructive (no blocking dialogs). */
export function ConfirmButton({
  label,
  confirmLabel,
  ariaLabel,
  testId,
  onConfirm,
  className = 'danger',
}: {
  label: string;
  confirmLabel: string;
  ariaLabel: string;
  testId?: string;
  className?: string;
  onConfirm(): Promise<unknown> | void;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking)
    return (
      <button type="button" className={className} aria-label={ariaLabel} data-testid={testId} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={ariaLabel}>
      <button
        type="button"
        className={className}
        disabled={busy}
        autoFocus
        data-testid={testId ? `${testId}-confirm` : undefined}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {t('Cancel')}
      </button>
    </span>
  );
}
