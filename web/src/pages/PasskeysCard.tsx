import { useState, type FormEvent } from 'react';
import { api, path } from '../api';
import type { AuthProviders, List, Passkey } from '../api/types';
import { t } from '../i18n';
import { credentialJSON, creationOptions, passkeyPromptError, passkeysSupported, type CeremonyJSON } from '../passkeys';
import { ConfirmButton, ErrorBox, formatTime, useLoad } from '../ui';

/** The profile's passkeys: add one (with a name), list them, remove one. */
export function PasskeysCard() {
  const list = useLoad(() => api.get<List<Passkey>>('/api/auth/passkeys'), []);
  const ways = useLoad(() => api.get<AuthProviders>('/api/auth/providers', { auth: 'none' }), []);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState(false);

  async function add(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setAdded(false);
    try {
      const c = await api.post<CeremonyJSON>('/api/auth/passkeys/register/begin');
      const cred = (await navigator.credentials.create({ publicKey: creationOptions(c) })) as PublicKeyCredential | null;
      if (!cred) throw new DOMException('no passkey made', 'NotAllowedError');
      await api.post<Passkey>('/api/auth/passkeys/register/finish', { ceremony: c.ceremony, name, credential: credentialJSON(cred) });
      setName('');
      setAdded(true);
      await list.reload();
    } catch (err) {
      setError(passkeyPromptError(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove(p: Passkey) {
    setError(null);
    try {
      await api.del(path`/api/auth/passkeys/${p.id}`);
      await list.reload();
    } catch (err) {
      setError(err);
    }
  }

  const items = list.data?.items ?? [];
  return (
    <section className="card" data-testid="passkeys">
      <h2>{t('Passkeys')}</h2>
      <p className="muted small">
        {t('A passkey signs you in with this device’s screen lock or a security key, without a password.')}
      </p>
      <ErrorBox error={list.error} />
      {items.length === 0 && !list.loading && <p className="muted">{t('No passkeys yet.')}</p>}
      {items.length > 0 && (
        <ul className="plain" data-testid="passkey-list">
          {items.map((p) => (
            <li key={p.id} data-testid="passkey-row" className="row">
              <span className="grow">
                <strong>{p.name}</strong>{' '}
                <span className="muted small">
                  {t('added {when}', { when: formatTime(p.createdAt) })}
                  {p.lastUsedAt ? ` · ${t('last used {when}', { when: formatTime(p.lastUsedAt) })}` : ''}
                </span>
              </span>
              <ConfirmButton
                label={t('Remove')}
                confirmLabel={t('Remove passkey')}
                ariaLabel={t('Remove the passkey {name}', { name: p.name })}
                testId="passkey-remove"
                onConfirm={() => remove(p)}
              />
            </li>
          ))}
        </ul>
      )}
      {ways.data && !ways.data.passkeys ? (
        <p className="muted" data-testid="passkeys-off">
          {t('Passkeys are off on this server: its public URL must be a domain name, not an IP address.')}
        </p>
      ) : passkeysSupported() ? (
        <form onSubmit={add} data-testid="passkey-form">
          <label>
            {t('Name of the new passkey')}
            <input name="passkeyName" maxLength={64} placeholder={t('e.g. Work laptop')} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <ErrorBox error={error} testId="passkey-error" />
          {added && (
            <p className="ok" role="status" data-testid="passkey-added">
              {t('Passkey added.')}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy} data-testid="passkey-add">
            {busy ? t('Waiting for your device…') : t('Add a passkey')}
          </button>
        </form>
      ) : (
        <p className="muted">{t('This browser cannot use passkeys.')}</p>
      )}
    </section>
  );
}
