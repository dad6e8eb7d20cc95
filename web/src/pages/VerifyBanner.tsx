import { useState } from 'react';
import { api } from '../api';
import { useAuth } from '../auth';
import { t } from '../i18n';
import { ErrorBox } from '../ui';

/** Shown to a signed-in person whose e-mail address is not confirmed yet, with a resend. */
export function VerifyBanner() {
  const { user } = useAuth();
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!user || user.emailVerified !== false) return null;

  async function resend() {
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/auth/email/resend');
      setSent(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="banner" role="status" data-testid="verify-banner">
      <span>{t('Please confirm your e-mail address {email}: open the link we mailed you.', { email: user.email })}</span>{' '}
      {sent ? (
        <span data-testid="verify-resent">{t('A new link is on its way.')}</span>
      ) : (
        <button type="button" className="link" disabled={busy} onClick={resend} data-testid="verify-resend">
          {t('Send the link again')}
        </button>
      )}
      <ErrorBox error={error} testId="verify-resend-error" />
    </div>
  );
}
