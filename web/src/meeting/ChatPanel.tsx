import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ChatMessage } from '../state/meeting';
import { formatDateTime, t } from '../i18n';

/** Chat over LiveKit data messages (topic "chat"). */
export function ChatPanel({ messages, canSend, send }: { messages: ChatMessage[]; canSend: boolean; send(text: string): Promise<void> }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const endRef = useRef<HTMLLIElement>(null);
  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: 'end' });
  }, [messages.length]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const message = text.trim();
    if (!message) return;
    try {
      await send(message);
      setText('');
      setError('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section className="chat" aria-label={t('Chat')} data-testid="chat-panel">
      <h2>{t('Chat')}</h2>
      <ol className="messages" aria-live="polite" data-testid="chat-messages">
        {messages.length === 0 && <li className="muted">{t('No messages yet.')}</li>}
        {messages.map((m) => (
          <li key={m.id} data-testid="chat-message">
            <strong>{m.name}</strong> <time className="muted small">{formatDateTime(new Date(m.at), { timeStyle: 'short' })}</time>
            <p>{m.text}</p>
          </li>
        ))}
        <li ref={endRef} aria-hidden="true" />
      </ol>
      {canSend ? (
        <form onSubmit={submit} className="row">
          <label className="grow">
            <span className="sr-only">{t('Message')}</span>
            <input
              name="message"
              placeholder={t('Message everyone')}
              maxLength={2000}
              value={text}
              onChange={(e) => setText(e.target.value)}
              data-testid="chat-input"
            />
          </label>
          <button type="submit" className="primary" data-testid="chat-send">
            {t('Send')}
          </button>
        </form>
      ) : (
        <p className="muted">{t('You may not send messages in this room.')}</p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
