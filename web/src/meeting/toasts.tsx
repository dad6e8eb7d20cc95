import { useCallback, useEffect, useRef, useState } from 'react';
import { X } from 'lucide-react';
import { t } from '../i18n';

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

/** Short notices about what happens to you; info fades after a few seconds, errors stay until dismissed. */
export function useToasts() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seq = useRef(0);
  const timers = useRef<number[]>([]);
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const dismiss = useCallback((id: number) => setToasts((l) => l.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (text: string, kind: Toast['kind'] = 'info') => {
      const id = ++seq.current;
      // The same notice twice in a row (two reconnects, say) shows once.
      setToasts((l) => [...l.filter((t) => t.text !== text), { id, text, kind }].slice(-4));
      if (kind === 'info') timers.current.push(window.setTimeout(() => dismiss(id), 6000));
    },
    [dismiss],
  );
  return { toasts, push, dismiss };
}

export function Toasts({ toasts, dismiss }: { toasts: Toast[]; dismiss(id: number): void }) {
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast ${toast.kind}`} data-testid="toast" role={toast.kind === 'error' ? 'alert' : undefined}>
          <span>{toast.text}</span>
          <button type="button" className="icon small" aria-label={t('Dismiss')} onClick={() => dismiss(toast.id)}>
            <X aria-hidden="true" size={16} />
          </button>
        </div>
      ))}
    </div>
  );
}
