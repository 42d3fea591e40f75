/**
 * A terminal progress bar with rate and ETA. It draws on stderr only when stderr is a TTY, so
 * scripted runs and `--json` output stay clean; `done()` always prints one summary line.
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private current = 0;
  private readonly tty: boolean;
  private readonly label: string;
  private readonly total: number;
  private readonly quiet: boolean;

  constructor(label: string, total: number, options: { quiet?: boolean } = {}) {
    this.label = label;
    this.total = total;
    this.quiet = options.quiet ?? false;
    this.tty = Boolean(process.stderr.isTTY) && !this.quiet;
  }

  /** Advance to `value` (absolute), with an optional suffix such as "loss 0.12". */
  update(value: number, suffix = ''): void {
    this.current = value;
    const now = performance.now();
    if (!this.tty || (now - this.lastDraw < 100 && value < this.total)) return;
    this.lastDraw = now;
    process.stderr.write(`\r${this.render(suffix)}\x1b[K`);
  }

  /** Finish the bar and print a summary line (on stderr). */
  done(suffix = ''): void {
    if (this.quiet) return;
    this.current = this.total;
    process.stderr.write(`${this.tty ? '\r' : ''}${this.render(suffix)}${this.tty ? '\x1b[K' : ''}\n`);
  }

  private render(suffix: string): string {
    const elapsed = (performance.now() - this.start) / 1000;
    const frac = this.total > 0 ? Math.min(1, this.current / this.total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const rate = elapsed > 0 ? this.current / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.current) / rate : 0;
    return `${this.label} [${bar}] ${this.current}/${this.total} ${formatSeconds(elapsed)}<${formatSeconds(eta)}${suffix ? ` ${suffix}` : ''}`;
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
