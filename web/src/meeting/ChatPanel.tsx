import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ChatMessage } from '../state/meeting';

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
    const t = text.trim();
    if (!t) return;
    try {
      await send(t);
      setText('');
      setError('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section className="chat" aria-label="Chat" data-testid="chat-panel">
      <h2>Chat</h2>
      <ol className="messages" aria-live="polite" data-testid="chat-messages">
        {messages.length === 0 && <li className="muted">No messages yet.</li>}
        {messages.map((m) => (
          <li key={m.id} data-testid="chat-message">
            <strong>{m.name}</strong> <time className="muted small">{new Date(m.at).toLocaleTimeString()}</time>
            <p>{m.text}</p>
          </li>
        ))}
        <li ref={endRef} aria-hidden="true" />
      </ol>
      {canSend ? (
        <form onSubmit={submit} className="row">
          <label className="grow">
            <span className="sr-only">Message</span>
            <input
              name="message"
              placeholder="Message everyone"
              maxLength={2000}
              value={text}
              onChange={(e) => setText(e.target.value)}
              data-testid="chat-input"
            />
          </label>
          <button type="submit" className="primary" data-testid="chat-send">
            Send
          </button>
        </form>
      ) : (
        <p className="muted">You may not send messages in this room.</p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
