import { useState } from 'react';
import { api, path } from '../api';
import type { List } from '../api/types';
import { ConfirmButton, ErrorBox, formatTime, useLoad } from '../ui';
import { t } from '../i18n';

/** An API key as the server lists it (never its secret). */
export interface ApiKey {
  id: string;
  name: string;
  scopes: string[];
  hint: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** The scopes a key can hold (docs/API.md, "API keys"). */
export const scopes = [
  'rooms:read',
  'rooms:write',
  'participants:moderate',
  'recordings:read',
  'recordings:write',
  'users:read',
  'webhooks:manage',
  'audit:read',
] as const;

/** API keys: create with scopes and an optional expiry (the secret is shown once), revoke. */
export function AdminKeys() {
  const keys = useLoad(() => api.get<List<ApiKey>>('/api/admin/api-keys'), []);
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>(['rooms:read']);
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function create() {
    setError(null);
    try {
      const body: Record<string, unknown> = { name, scopes: chosen };
      if (expires) body.expiresAt = new Date(`${expires}T23:59:59`).toISOString();
      const k = await api.post<ApiKey & { key: string }>('/api/admin/api-keys', body);
      setSecret({ name: k.name, key: k.key });
      setName('');
      keys.reload();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section aria-labelledby="keys-h">
      <h2 id="keys-h">{t('API keys')}</h2>
      <form
        className="row wrap"
        aria-label={t('New API key')}
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label>
          {t('Name')} <input value={name} required maxLength={100} onChange={(e) => setName(e.target.value)} data-testid="key-name" />
        </label>
        <fieldset className="row wrap">
          <legend>{t('Scopes')}</legend>
          {scopes.map((s) => (
            <label key={s}>
              <input
                type="checkbox"
                checked={chosen.includes(s)}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, s] : chosen.filter((x) => x !== s))}
              />{' '}
              {s}
            </label>
          ))}
        </fieldset>
        <label>
          {t('Expires (optional)')} <input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <button type="submit" data-testid="key-create">
          {t('Create key')}
        </button>
      </form>
      {secret && (
        <div className="notice" role="status" data-testid="key-secret">
          <p>
            {t('The key {name}, shown only now: copy it into your integration.', { name: secret.name })}
          </p>
          <code className="secret">{secret.key}</code>{' '}
          <button type="button" onClick={() => void navigator.clipboard?.writeText(secret.key)}>
            {t('Copy')}
          </button>{' '}
          <button type="button" onClick={() => setSecret(null)}>
            {t('Done')}
          </button>
        </div>
      )}
      <ErrorBox error={keys.error || error} />
      {keys.data && (keys.data.items ?? []).length === 0 && <p className="muted">{t('No API keys yet. Create one above for an integration.')}</p>}
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t('API keys list')}>
        <table data-testid="keys-table">
          <thead>
            <tr>
              <th scope="col">{t('Name')}</th>
              <th scope="col">{t('Key')}</th>
              <th scope="col">{t('Scopes')}</th>
              <th scope="col">{t('Created')}</th>
              <th scope="col">{t('Expires')}</th>
              <th scope="col">{t('Last used')}</th>
              <th scope="col">{t('Status')}</th>
            </tr>
          </thead>
          <tbody>
            {(keys.data?.items ?? []).map((k) => (
              <tr key={k.id} data-testid="key-row">
                <td>{k.name}</td>
                <td>
                  <code>{k.hint}…</code>
                </td>
                <td>{k.scopes.join(', ')}</td>
                <td>{formatTime(k.createdAt)}</td>
                <td>{k.expiresAt ? formatTime(k.expiresAt) : t('never')}</td>
                <td data-testid="key-last-used">{k.lastUsedAt ? formatTime(k.lastUsedAt) : t('never')}</td>
                <td>
                  {k.revokedAt ? (
                    t('revoked {time}', { time: formatTime(k.revokedAt) })
                  ) : (
                    <ConfirmButton
                      label={t('Revoke')}
                      confirmLabel={t('Revoke now')}
                      ariaLabel={t('Revoke key {name}', { name: k.name })}
                      testId="key-revoke"
                      onConfirm={async () => {
                        try {
                          await api.del(path`/api/admin/api-keys/${k.id}`);
                          keys.reload();
                        } catch (e) {
                          setError(e);
                        }
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
