import type { HubFault, HubFaultHandle } from "./types.js";

interface ArmedFault {
  fault: HubFault;
  pattern: RegExp | undefined;
  hits: number;
  remaining: number;
  skip: number;
}

/** Failures tests ask for: the first armed fault that matches a request takes it, until its `times` run out. */
export class FaultSet {
  private faults: ArmedFault[] = [];

  inject(fault: HubFault): HubFaultHandle {
    const { pathPattern } = fault.match ?? {};
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new TypeError(`inject: "times" must be a positive number or Infinity, got ${String(fault.times)}`);
    if (fault.kind === "status" && fault.status !== undefined && (fault.status < 400 || fault.status > 599)) {
      throw new TypeError(`inject: "status" must be an HTTP error status (400-599), got ${fault.status}`);
    }
    const armed: ArmedFault = { fault, pattern: typeof pathPattern === "string" ? new RegExp(pathPattern) : pathPattern, hits: 0, remaining: times, skip: fault.skip ?? 0 };
    this.faults.push(armed);
    return {
      get hits() {
        return armed.hits;
      },
      get remaining() {
        return armed.remaining;
      },
      remove: () => {
        this.faults = this.faults.filter((f) => f !== armed);
      },
    };
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault for this request, if any; it counts as used (a fault still skipping requests lets this one through). */
  take(method: string, path: string): HubFault | undefined {
    for (const armed of this.faults) {
      const { method: wanted } = armed.fault.match ?? {};
      if (armed.remaining <= 0 || (wanted && wanted.toUpperCase() !== method) || (armed.pattern && !armed.pattern.test(path))) continue;
      if (armed.skip > 0) {
        armed.skip--;
        continue;
      }
      armed.hits++;
      armed.remaining--;
      if (armed.remaining <= 0) this.faults = this.faults.filter((f) => f !== armed);
      return armed.fault;
    }
    return undefined;
  }
}
