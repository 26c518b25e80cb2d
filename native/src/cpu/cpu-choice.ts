import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { SELF_TEST_VERSION, type SelfTestResult } from "../self-test/self-test-toolchain.js";
import { cpuFingerprint, isCpuFeature, readCpuInfo, type CpuFeature } from "./cpu-features.js";

/** An extension a CPU's build is made without, and why (the self-test's crash, or the user's `setup --without`). */
export interface TurnedOff {
  feature: CpuFeature;
  why: string;
  at: string;
}

/** Which build a CPU uses for a pin: the extensions turned off to get one that passes its self-test. */
export interface CpuChoice {
  cpu: string;
  fingerprint: string;
  turnedOff: TurnedOff[];
  /** The build that passed, once one did. */
  buildKey?: string;
}

export async function readCpuChoice(file: string): Promise<CpuChoice> {
  const info = readCpuInfo();
  const fresh: CpuChoice = { cpu: info.model, fingerprint: cpuFingerprint(info), turnedOff: [] };
  const saved = await readJson<CpuChoice>(file);
  if (!saved || !Array.isArray(saved.turnedOff)) return fresh;
  return { ...fresh, turnedOff: saved.turnedOff.filter((t) => isCpuFeature(t.feature)), ...(saved.buildKey ? { buildKey: saved.buildKey } : {}) };
}

export async function writeCpuChoice(file: string, choice: CpuChoice): Promise<void> {
  await writeJson(file, choice);
}

/** A build's self-tests are kept per CPU (and per simulated fault, which is a CPU of its own). */
function selfTestKey(simulate: CpuFeature | undefined): string {
  return `${cpuFingerprint()}${simulate ? `+simulated-${simulate}-fault` : ""}`;
}

export async function readSelfTest(file: string, simulate: CpuFeature | undefined): Promise<SelfTestResult | undefined> {
  const result = (await readJson<Record<string, SelfTestResult>>(file))?.[selfTestKey(simulate)];
  return result?.version === SELF_TEST_VERSION ? result : undefined;
}

export async function writeSelfTest(file: string, simulate: CpuFeature | undefined, result: SelfTestResult): Promise<void> {
  const all = (await readJson<Record<string, SelfTestResult>>(file)) ?? {};
  await writeJson(file, { ...all, [selfTestKey(simulate)]: result });
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Written whole under a temporary name and renamed: a reader never sees half a record. */
async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(value, null, 2)}\n`);
  await rename(partial, file);
}
