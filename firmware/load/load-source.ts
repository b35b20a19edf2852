/** @module Where load readings come from: the LoadSource interface and the real one over /proc. */
import { readFile } from "node:fs/promises";
import { parsePressure } from "./parse-pressure.ts";
import { type CpuTimes, parseProcStat } from "./parse-proc-stat.ts";

/** One reading: cumulative CPU ticks, plus PSI "some avg10" (percent) where the kernel has it. */
export interface LoadReading {
  cpu: CpuTimes;
  pressureAvg10?: number | undefined;
}

/** Anything that can take a load reading; tests inject a scripted one, the recorder uses ProcLoadSource. */
export interface LoadSource {
  read(): Promise<LoadReading>;
}

/** Reads /proc/stat and /proc/pressure/cpu (paths overridable, e.g. for a container's own cgroup view). */
export class ProcLoadSource implements LoadSource {
  /** undefined until the first read; false once the PSI file turned out to be absent (kernel < 4.20, psi=0). */
  #psiAvailable: boolean | undefined;

  readonly #statPath: string;
  readonly #pressurePath: string;

  constructor(statPath = "/proc/stat", pressurePath = "/proc/pressure/cpu") {
    this.#statPath = statPath;
    this.#pressurePath = pressurePath;
  }

  async read(): Promise<LoadReading> {
    const cpu = parseProcStat(await readFile(this.#statPath, "utf8"));
    if (this.#psiAvailable === false) return { cpu };
    try {
      const text = await readFile(this.#pressurePath, "utf8");
      this.#psiAvailable = true;
      return { cpu, pressureAvg10: parsePressure(text).avg10 };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Absent or disabled PSI is normal on older kernels: carry on with CPU share alone.
      if (code === "ENOENT" || code === "EOPNOTSUPP" || code === "ENOTSUP") {
        this.#psiAvailable = false;
        return { cpu };
      }
      throw err;
    }
  }
}
