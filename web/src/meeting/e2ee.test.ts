import { describe, expect, it } from 'vitest';
import { dropStatusOfDeparted } from './e2ee';

// A stand-in with Worker's shape: onmessage is an accessor on the prototype.
class FakeWorker {
  private handler: ((ev: MessageEvent) => unknown) | null = null;
  get onmessage() {
    return this.handler;
  }
  set onmessage(h) {
    this.handler = h;
  }
  deliver(data: unknown) {
    return this.handler?.call(this, new MessageEvent('message', { data }));
  }
}

describe('dropStatusOfDeparted', () => {
  it('drops the status of someone who left and keeps every other error', () => {
    const w = new FakeWorker();
    dropStatusOfDeparted(w as unknown as Worker);
    const seen: unknown[] = [];
    w.onmessage = (ev: MessageEvent) => {
      seen.push(ev.data);
      if (ev.data === 'gone') throw TypeError("couldn't set encryption status, participant not foundbob");
      if (ev.data === 'bad') throw TypeError('something else');
    };
    expect(() => w.deliver('gone')).not.toThrow();
    expect(() => w.deliver('bad')).toThrow('something else');
    expect(() => w.deliver('fine')).not.toThrow();
    expect(seen).toEqual(['gone', 'bad', 'fine']);
    expect(w.onmessage).not.toBeNull();
    w.onmessage = null;
    expect(w.onmessage).toBeNull();
  });

  it('without the guard the error escapes', () => {
    const w = new FakeWorker();
    w.onmessage = () => {
      throw TypeError("couldn't set encryption status, participant not foundbob");
    };
    expect(() => w.deliver('gone')).toThrow();
  });
});
