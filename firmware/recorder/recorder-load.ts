/** @module The recorder's answer to "can you accept now?": the load monitor, overridden by the operator's busy switch. */
import type { LoadMonitor, LoadStatus } from "../load/load-monitor.ts";
import type { BusySwitch } from "./busy-switch.ts";

/** A LoadStatus plus whether the operator switch made it busy. */
export interface RecorderLoadStatus extends LoadStatus {
  switchOn: boolean;
}

/** How often a waiter re-reads the busy switch file while it is on (the file has no change event here). */
const SWITCH_POLL_MS = 250;

export class RecorderLoad {
  constructor(
    readonly monitor: LoadMonitor,
    readonly busySwitch: BusySwitch,
  ) {}

  status(): RecorderLoadStatus {
    const s = this.monitor.status();
    const switchOn = this.busySwitch.on;
    return switchOn ? { ...s, state: "busy", switchOn } : { ...s, switchOn };
  }

  /** Resolves once both the switch is off and the monitor says acceptable; rejects with signal.reason. */
  async waitUntilAcceptable(signal?: AbortSignal): Promise<RecorderLoadStatus> {
    for (;;) {
      while (this.busySwitch.on) {
        if (signal?.aborted) throw signal.reason;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, SWITCH_POLL_MS);
          signal?.addEventListener(
            "abort",
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
      }
      await this.monitor.waitUntilAcceptable(signal);
      const s = this.status();
      if (s.state === "acceptable") return s;
    }
  }
}

/** "busy: operator switch on" or the monitor's own line. */
export function describeRecorderLoad(s: RecorderLoadStatus, monitorLine: string): string {
  return s.switchOn ? `busy: operator switch on (${monitorLine.replace(/^\w+: /, "")})` : monitorLine;
}
