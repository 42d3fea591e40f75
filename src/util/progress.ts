/**
 * Progress of a long loop on stderr. On a TTY: a bar with rate and ETA, redrawn in place. Not on a
 * TTY (`train ... 2> log`): a plain line every `every` units (default: every 5% of the total), so
 * a log shows the run is alive. `quiet` (for `--json` output) prints nothing; `done()` otherwise
 * always prints one summary line.
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private current = 0;
  /** the first value reported and when: the rate counts from it (a resumed run starts mid-way) */
  private first: { value: number; time: number } | undefined;
  private lastLine = 0;
  private readonly tty: boolean;
  private readonly label: string;
  private readonly total: number;
  private readonly quiet: boolean;
  private readonly every: number;

  constructor(label: string, total: number, options: { quiet?: boolean; every?: number; tty?: boolean } = {}) {
    this.label = label;
    this.total = total;
    this.quiet = options.quiet ?? false;
    this.tty = (options.tty ?? Boolean(process.stderr.isTTY)) && !this.quiet;
    this.every = Math.max(1, Math.round(options.every ?? Math.ceil(total / 20)));
  }

  /** Advance to `value` (absolute), with an optional suffix such as "loss 0.12". */
  update(value: number, suffix = ''): void {
    const now = performance.now();
    if (this.first === undefined) {
      this.first = { value, time: now };
      this.lastLine = Math.floor(value / this.every);
    }
    this.current = value;
    if (this.quiet) return;
    if (!this.tty) {
      const bucket = Math.floor(value / this.every);
      if (bucket > this.lastLine && value < this.total) {
        this.lastLine = bucket;
        process.stderr.write(`${this.renderLine(suffix)}\n`);
      }
      return;
    }
    if (now - this.lastDraw < 100 && value < this.total) return;
    this.lastDraw = now;
    process.stderr.write(`\r${this.render(suffix)}\x1b[K`);
  }

  /** Finish the bar and print a summary line (on stderr). */
  done(suffix = ''): void {
    if (this.quiet) return;
    this.current = this.total;
    process.stderr.write(`${this.tty ? '\r' : ''}${this.render(suffix)}${this.tty ? '\x1b[K' : ''}\n`);
  }

  /** Units per second since the first update (0 until there are two). */
  private rate(): number {
    if (!this.first) return 0;
    const seconds = (performance.now() - this.first.time) / 1000;
    return seconds > 0 ? (this.current - this.first.value) / seconds : 0;
  }

  private eta(): number {
    const rate = this.rate();
    return rate > 0 ? (this.total - this.current) / rate : 0;
  }

  private render(suffix: string): string {
    const elapsed = (performance.now() - this.start) / 1000;
    const frac = this.total > 0 ? Math.min(1, this.current / this.total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    return `${this.label} [${bar}] ${this.current}/${this.total} ${formatSeconds(elapsed)}<${formatSeconds(this.eta())}${suffix ? ` ${suffix}` : ''}`;
  }

  /** `train 600/12000 (5%) elapsed 0:41, about 12:58 left, loss 0.91` */
  private renderLine(suffix: string): string {
    const elapsed = (performance.now() - this.start) / 1000;
    const pct = this.total > 0 ? Math.floor((100 * this.current) / this.total) : 100;
    const left = this.rate() > 0 ? `, about ${formatSeconds(this.eta())} left` : '';
    return `${this.label} ${this.current}/${this.total} (${pct}%) elapsed ${formatSeconds(elapsed)}${left}${suffix ? `, ${suffix}` : ''}`;
  }
}

/** Formats seconds as m:ss or h:mm:ss. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
