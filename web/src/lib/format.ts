/** Display helpers: money, numbers, times, percentages, enum values. */

const usdFormatters = new Map<number, Intl.NumberFormat>();

/** Dollars with as many decimals as small amounts need (model costs are fractions of a cent). */
export function usd(value: number): string {
  const abs = Math.abs(value);
  const digits = abs === 0 || abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6;
  let format = usdFormatters.get(digits);
  if (!format) {
    format = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: digits, maximumFractionDigits: digits });
    usdFormatters.set(digits, format);
  }
  return format.format(value);
}

export const count = (value: number): string => new Intl.NumberFormat("en-US").format(value);

export const percent = (share: number, digits = 0): string => `${(share * 100).toFixed(digits)}%`;

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function time(iso: string): string {
  const date = new Date(iso);
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** A duration in seconds as "2 h 5 min", "45 s"; negative values are "overdue". */
export function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const parts = days ? [`${days} d`, hours ? `${hours} h` : ""] : hours ? [`${hours} h`, minutes ? `${minutes} min` : ""] : minutes ? [`${minutes} min`] : [`${s} s`];
  return parts.filter(Boolean).join(" ");
}

/** "in_progress" -> "In progress", "resolutionCode" -> "Resolution code". */
export function label(value: string): string {
  const text = value.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_-]/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const shortHash = (hash: string | null | undefined): string => (hash ? `${hash.slice(0, 10)}…` : "—");
