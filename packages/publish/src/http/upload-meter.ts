/** What has gone up so far: for progress lines (bytes and rate) and for the publication's uploadedBytes. */
export interface UploadSnapshot {
  /** Bytes sent, counting requests still under way (a failed attempt's bytes are taken back). */
  sent: number;
  /** Bytes planned. */
  total: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  /** Files with bytes under way. */
  active: string[];
}

/** One request's body being sent; `done(true)` keeps its bytes, `done(false)` takes them back (it will be sent again). */
export interface UploadAttempt {
  add(bytes: number): void;
  done(ok: boolean): void;
}

const WINDOW_MS = 5000;

/** Counts the bytes handed to the network per file, as they are read for sending. */
export class UploadMeter {
  readonly total: number;
  private committed = 0;
  private inFlight = new Map<UploadAttempt, { label: string; bytes: number }>();
  private samples: { at: number; sent: number }[] = [];

  private readonly now: () => number;

  constructor(params: { total: number; now?: () => number }) {
    this.total = params.total;
    this.now = params.now ?? Date.now;
  }

  /** Bytes of requests that succeeded: what the publication reports as uploaded. */
  get uploaded(): number {
    return this.committed;
  }

  begin(label: string): UploadAttempt {
    // The rate is measured from the first byte on, not from when the plan was made.
    if (this.samples.length === 0) this.samples.push({ at: this.now(), sent: 0 });
    const entry = { label, bytes: 0 };
    const attempt: UploadAttempt = {
      add: (bytes) => {
        entry.bytes += bytes;
      },
      done: (ok) => {
        if (!this.inFlight.delete(attempt)) return;
        if (ok) this.committed += entry.bytes;
      },
    };
    this.inFlight.set(attempt, entry);
    return attempt;
  }

  snapshot(): UploadSnapshot {
    let sent = this.committed;
    const active = new Set<string>();
    for (const entry of this.inFlight.values()) {
      sent += entry.bytes;
      active.add(entry.label);
    }
    const at = this.now();
    this.samples.push({ at, sent });
    while (this.samples.length > 2 && (this.samples[0]?.at ?? at) < at - WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    const seconds = first ? (at - first.at) / 1000 : 0;
    const rate = first && seconds > 0 ? Math.max(0, sent - first.sent) / seconds : 0;
    return { sent, total: this.total, rate, active: [...active].sort() };
  }
}
