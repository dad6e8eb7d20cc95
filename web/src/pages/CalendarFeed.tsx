import { useState } from 'react';
import { api } from '../api';
import type { CalendarFeed as Feed } from '../api/types';
import { t } from '../i18n';
import { copyText } from '../invite';
import { ConfirmButton, ErrorBox, formatTime, useLoad } from '../ui';

/** The caller's calendar subscription URL: made (or replaced) on demand and shown then only,
 * since the server keeps just its hash; replacing it stops the old URL. */
export function CalendarFeed() {
  const feed = useLoad(() => api.get<Feed>('/api/calendar/feed'), []);
  const [url, setUrl] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function rotate() {
    setError(null);
    try {
      const f = await api.post<Feed>('/api/calendar/feed');
      setUrl(f.url ?? null);
      setCopied(false);
      await feed.reload();
    } catch (err) {
      setError(err);
    }
  }
  const exists = feed.data?.exists;
  return (
    <div className="card" data-testid="calendar-feed">
      <h2>{t('Calendar subscription')}</h2>
      <p className="muted small">
        {t('Calendar apps can subscribe to your scheduled meetings with a private link. Whoever has the link sees your meetings.')}
      </p>
      {url ? (
        <p>
          <input readOnly value={url} aria-label={t('Calendar link')} data-testid="calendar-feed-url" onFocus={(e) => e.target.select()} />{' '}
          <button
            type="button"
            onClick={async () => {
              await copyText(url);
              setCopied(true);
            }}
          >
            {copied ? t('Copied') : t('Copy link')}
          </button>
          <br />
          <span className="muted small">{t('This link is shown only now.')}</span>
        </p>
      ) : (
        exists && <p className="muted small">{t('A link made on {when} is in use.', { when: formatTime(feed.data?.createdAt) })}</p>
      )}
      <div className="row wrap">
        {exists ? (
          <ConfirmButton
            label={t('New link')}
            confirmLabel={t('Replace the link (the old one stops working)')}
            ariaLabel={t('Replace the calendar link')}
            className=""
            testId="calendar-feed-rotate"
            onConfirm={rotate}
          />
        ) : (
          <button type="button" className="primary" data-testid="calendar-feed-create" onClick={() => void rotate()}>
            {t('Make a link')}
          </button>
        )}
        {exists && (
          <ConfirmButton
            label={t('Stop the link')}
            confirmLabel={t('Stop it (calendars lose the meetings)')}
            ariaLabel={t('Stop the calendar link')}
            testId="calendar-feed-delete"
            onConfirm={async () => {
              setError(null);
              try {
                await api.del('/api/calendar/feed');
                setUrl(null);
                await feed.reload();
              } catch (err) {
                setError(err);
              }
            }}
          />
        )}
      </div>
      <ErrorBox error={error || feed.error} />
    </div>
  );
}
